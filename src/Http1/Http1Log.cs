using System.Net;
using Microsoft.Extensions.Logging;

namespace Gatehouse.Http1;

/// <summary>
/// Every log line of the HTTP/1.1 layer, made once at compile time (no boxing or parsing of the
/// format per call). Expected disconnects are Debug, refusals Information, handler faults Error.
/// </summary>
internal static partial class Http1Log
{
    [LoggerMessage(101, LogLevel.Information, "request refused from {Remote}: {Reason}")]
    public static partial void RequestRefused(ILogger logger, IPEndPoint remote, string reason);

    [LoggerMessage(102, LogLevel.Information, "header timeout from {Remote}")]
    public static partial void HeaderTimeout(ILogger logger, IPEndPoint remote);

    [LoggerMessage(103, LogLevel.Debug, "connection from {Remote} ended: {Message}")]
    public static partial void ConnectionEnded(ILogger logger, IPEndPoint remote, string message);

    [LoggerMessage(104, LogLevel.Debug, "could not flush to {Remote}: {Message}")]
    public static partial void FlushFailed(ILogger logger, IPEndPoint remote, string message);

    [LoggerMessage(105, LogLevel.Debug, "connection from {Remote} closed inside a request head")]
    public static partial void ClosedInsideHead(ILogger logger, IPEndPoint remote);

    [LoggerMessage(106, LogLevel.Error, "handler failed for {Method} {Path}")]
    public static partial void HandlerFailed(ILogger logger, Exception exception, string method, string path);

    [LoggerMessage(107, LogLevel.Debug, "could not send {Status} to {Remote}: {Message}")]
    public static partial void RejectionNotSent(ILogger logger, int status, IPEndPoint remote, string message);

    [LoggerMessage(111, LogLevel.Information, "websocket upgrade refused from {Remote} ({Status}): {Reason}")]
    public static partial void WebSocketRefused(ILogger logger, IPEndPoint remote, int status, string reason);

    [LoggerMessage(112, LogLevel.Debug, "websocket stream from {Remote} ended: {Message}")]
    public static partial void WebSocketEnded(ILogger logger, IPEndPoint remote, string message);

    [LoggerMessage(113, LogLevel.Error, "websocket handler failed for {Remote}")]
    public static partial void WebSocketHandlerFailed(ILogger logger, Exception exception, IPEndPoint remote);

    [LoggerMessage(114, LogLevel.Debug, "could not close websocket stream: {Message}")]
    public static partial void WebSocketCloseFailed(ILogger logger, string message);
}
