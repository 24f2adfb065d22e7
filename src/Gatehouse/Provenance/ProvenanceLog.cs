using Microsoft.Extensions.Logging;

namespace Gatehouse.Provenance;

/// <summary>Log lines of the provenance recorder (issue 7); never a credential, never a query string.</summary>
internal static partial class ProvenanceLog
{
    [LoggerMessage(1, LogLevel.Information, "provenance: {Holder} {How} {Kind} {Resource}")]
    public static partial void Recorded(ILogger logger, string holder, string how, string kind, string resource);

    [LoggerMessage(2, LogLevel.Warning, "provenance: record of {Kind} {Resource} by {Holder} not written (attempt {Attempt}): {Reason}")]
    public static partial void WriteFailed(ILogger logger, string kind, string resource, string holder, int attempt, string reason);

    [LoggerMessage(3, LogLevel.Error, "provenance: queue full, record of {Kind} {Resource} by {Holder} dropped")]
    public static partial void Dropped(ILogger logger, string kind, string resource, string holder);

    [LoggerMessage(4, LogLevel.Information, "provenance: recording who created what in {Database} with the \"{Role}\" credential")]
    public static partial void Started(ILogger logger, string database, string role);

    [LoggerMessage(5, LogLevel.Warning, "provenance: {Count} record(s) still queued at shutdown were not written")]
    public static partial void Abandoned(ILogger logger, int count);
}
