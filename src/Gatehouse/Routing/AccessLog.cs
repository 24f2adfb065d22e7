using System.Net;
using Microsoft.Extensions.Logging;

namespace Gatehouse.Routing;

/// <summary>
/// The access line, one per request (category <c>Gatehouse.Access</c>): generated methods take
/// their values typed, so a request builds no argument array and parses no template.
/// </summary>
internal static partial class AccessLog
{
    [LoggerMessage(0, LogLevel.Information,
        "{Method} {Path} {Status} principal={Pin} subject={Subject} remote={Remote} route={Route} in={BytesIn} out={BytesOut} ms={DurationMs}{Refusal}")]
    public static partial void Answered(
        ILogger logger, string method, string path, int status, string pin, string subject, IPEndPoint remote, string route,
        long bytesIn, long bytesOut, double durationMs, string refusal);

    /// <summary>Forwarded: how long the upstream took to its first answer byte (-1: none came) and to its end.</summary>
    [LoggerMessage(1, LogLevel.Information,
        "{Method} {Path} {Status} principal={Pin} subject={Subject} remote={Remote} route={Route} in={BytesIn} out={BytesOut} ms={DurationMs} upstreamFirstByteMs={UpstreamFirstByteMs} upstreamTotalMs={UpstreamTotalMs}{Refusal}")]
    public static partial void Forwarded(
        ILogger logger, string method, string path, int status, string pin, string subject, IPEndPoint remote, string route,
        long bytesIn, long bytesOut, double durationMs, double upstreamFirstByteMs, double upstreamTotalMs, string refusal);
}
