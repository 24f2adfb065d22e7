using Microsoft.Extensions.Logging;

namespace Gatehouse.Routing;

/// <summary>Writes the access line, one per request (category <c>Gatehouse.Access</c>): see <see cref="AccessLine"/>.</summary>
internal static class AccessLog
{
    /// <summary>The access lines' category (<c>serve --no-access-log</c> leaves it out).</summary>
    public const string Category = "Gatehouse.Access";

    private static readonly Func<AccessLine, Exception?, string> Format = (line, _) => line.ToString();

    public static void Write(ILogger logger, AccessLine line) =>
        logger.Log(LogLevel.Information, new EventId(line.EventId), line, null, Format);
}
