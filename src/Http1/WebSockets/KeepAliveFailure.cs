using System.Net.WebSockets;

namespace Gatehouse.Http1.WebSockets;

/// <summary>Recognizes the framework's "no PONG within KeepAliveTimeout" abort among receive failures.</summary>
internal static class KeepAliveFailure
{
    /// <summary>
    /// .NET 10 surfaces it as <c>OperationCanceledException("Aborted")</c> whose inner AggregateException
    /// holds a WebSocketException about the missing Pong; no public error code exists, so the chain is searched.
    /// </summary>
    public static bool Is(Exception? exception) => exception switch
    {
        null => false,
        WebSocketException ws when ws.Message.Contains("Pong", StringComparison.OrdinalIgnoreCase)
            || ws.Message.Contains("KeepAlive", StringComparison.OrdinalIgnoreCase) => true,
        AggregateException many => many.InnerExceptions.Any(Is),
        _ => Is(exception.InnerException),
    };
}
