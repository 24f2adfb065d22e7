using System.Net;
using Microsoft.Extensions.Logging;

namespace Gatehouse.Proxy;

/// <summary>
/// Every log line of the forwarder and upstream pool, made once at compile time. A client that left
/// is Debug, a refused body Information, an upstream that failed or timed out Warning.
/// </summary>
internal static partial class ProxyLog
{
    [LoggerMessage(201, LogLevel.Debug, "client {Remote} left while {Node} had not answered {Method} {Path}")]
    public static partial void ClientLeftBeforeAnswer(ILogger logger, IPEndPoint remote, UpstreamNode node, string method, string path);

    [LoggerMessage(202, LogLevel.Warning, "upstream {Node} did not answer {Method} {Path} in time")]
    public static partial void UpstreamTimedOut(ILogger logger, UpstreamNode node, string method, string path);

    [LoggerMessage(203, LogLevel.Warning, "upstream {Node} failed before answering {Method} {Path}: {Message}")]
    public static partial void UpstreamFailedBeforeAnswer(ILogger logger, UpstreamNode node, string method, string path, string message);

    [LoggerMessage(204, LogLevel.Debug, "client {Remote} left while {Node} was quiet mid-answer to {Method} {Path}")]
    public static partial void ClientLeftMidAnswer(ILogger logger, IPEndPoint remote, UpstreamNode node, string method, string path);

    [LoggerMessage(205, LogLevel.Information, "feed {Method} {Path} ended: the server is stopping")]
    public static partial void FeedEndedByStop(ILogger logger, string method, string path);

    [LoggerMessage(206, LogLevel.Warning, "forward of {Method} {Path} cut off after the answer began ({Result}): {Message}")]
    public static partial void AnswerCutOff(ILogger logger, string method, string path, ForwardResult result, string message);

    [LoggerMessage(207, LogLevel.Warning, "no upstream for {Method} {Path}: {Message}")]
    public static partial void NoUpstream(ILogger logger, string method, string path, string message);

    [LoggerMessage(208, LogLevel.Debug, "stale pooled connection to {Node}; retrying {Method} on a fresh one")]
    public static partial void StaleConnectionRetried(ILogger logger, UpstreamNode node, string method);

    [LoggerMessage(209, LogLevel.Information, "request body from {Remote} refused: {Reason}")]
    public static partial void RequestBodyRefused(ILogger logger, IPEndPoint remote, string reason);

    [LoggerMessage(210, LogLevel.Warning, "upstream {Node} answered 101 to {Method} {Path}, which asked for no WebSocket")]
    public static partial void UnaskedSwitch(ILogger logger, UpstreamNode node, string method, string path);

    [LoggerMessage(211, LogLevel.Warning, "upstream {Node} answered 101 without Upgrade: websocket for {Path}")]
    public static partial void SwitchWithoutWebSocket(ILogger logger, UpstreamNode node, string path);

    [LoggerMessage(212, LogLevel.Debug, "tunnel for {Path} to {Node} ended: {End}")]
    public static partial void TunnelEnded(ILogger logger, string path, UpstreamNode node, TunnelEnd end);

    [LoggerMessage(213, LogLevel.Warning, "upstream {Node} refused: {Reason}: {Message}")]
    public static partial void UpstreamRefused(ILogger logger, UpstreamNode node, string reason, string message);

    [LoggerMessage(214, LogLevel.Warning, "upstream {Node} unreachable, skipped for {RetryAfter}: {Message}")]
    public static partial void UpstreamUnreachable(ILogger logger, UpstreamNode node, TimeSpan retryAfter, string message);
}
