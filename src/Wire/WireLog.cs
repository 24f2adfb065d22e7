using Microsoft.Extensions.Logging;

namespace Gatehouse.Wire;

/// <summary>
/// Every log line of the Wire layer. Expected disconnects are Debug, refusals Information (one line
/// each, with the remote address and reason), real faults Warning (STYLE.md: tell reset from abort from fault).
/// </summary>
internal static partial class WireLog
{
    [LoggerMessage(1, LogLevel.Information, "listening on {Endpoint} ({Kind})")]
    public static partial void Listening(ILogger logger, string endpoint, string kind);

    [LoggerMessage(2, LogLevel.Information, "refused {Remote} on {Listener}: {Reason}")]
    public static partial void Refused(ILogger logger, string remote, string listener, string reason);

    [LoggerMessage(3, LogLevel.Debug, "handshake with {Remote} timed out after {Timeout}")]
    public static partial void HandshakeTimedOut(ILogger logger, string remote, TimeSpan timeout);

    [LoggerMessage(4, LogLevel.Debug, "handshake with {Remote} failed: {Message}")]
    public static partial void HandshakeFailed(ILogger logger, string remote, string message);

    [LoggerMessage(5, LogLevel.Debug, "closed {Remote} at accept: {Reason}")]
    public static partial void ClosedAtAccept(ILogger logger, string remote, string reason);

    [LoggerMessage(6, LogLevel.Debug, "connection {Remote} ended: {Message}")]
    public static partial void Disconnected(ILogger logger, string remote, string message);

    [LoggerMessage(7, LogLevel.Warning, "connection {Remote} failed")]
    public static partial void ConnectionFault(ILogger logger, Exception exception, string remote);

    [LoggerMessage(8, LogLevel.Warning, "accept on {Endpoint} failed")]
    public static partial void AcceptFault(ILogger logger, Exception exception, string endpoint);

    [LoggerMessage(9, LogLevel.Warning, "{Count} connection(s) still open after the {Grace} shutdown grace; aborting them")]
    public static partial void AbortingAfterGrace(ILogger logger, int count, TimeSpan grace);

    [LoggerMessage(10, LogLevel.Information, "revoked {Remote} ({Pin}): {Reason}")]
    public static partial void Revoked(ILogger logger, string remote, string pin, string reason);

    [LoggerMessage(12, LogLevel.Information, "closed the oldest pending handshake, from {Remote}, to make room (limits.maxPendingHandshakes)")]
    public static partial void HandshakeEvicted(ILogger logger, string remote);

    [LoggerMessage(11, LogLevel.Information, "trust updated: server pin {Pin}; {Judged} open connection(s) re-judged, {Revoked} closed")]
    public static partial void TrustUpdated(ILogger logger, string pin, int judged, int revoked);

    [LoggerMessage(13, LogLevel.Warning, "TLS runtime tuning: {Tuning} turned off for this process, connections are served as .NET leaves them: {Reason}")]
    public static partial void TlsTuningFailed(ILogger logger, string tuning, string reason);

    [LoggerMessage(14, LogLevel.Information, "TLS runtime tuning (runtime.tlsTuning) {Summary}")]
    public static partial void TlsTuning(ILogger logger, string summary);
}
