using System.Net.WebSockets;

namespace Gatehouse.Http1.WebSockets;

/// <summary>Ends a stream whose peer sent a message over the limit, the way the framework ends one that broke the protocol.</summary>
internal static class MessageTooBig
{
    // A peer that is still pushing its oversized message may not read our close promptly; past this
    // we abort rather than wait (the framework does the same after its own protocol errors).
    private static readonly TimeSpan CloseWait = TimeSpan.FromSeconds(2);

    public static async Task CloseAndThrowAsync(WebSocket socket, long maxMessageBytes)
    {
        await CloseAsync(socket).ConfigureAwait(false);
        throw new WebSocketException(WebSocketError.Faulted, $"message larger than {maxMessageBytes} bytes: closed with 1009 (message too big)");
    }

    /// <summary>Sends close 1009 (bounded by <see cref="CloseWait"/>), then aborts the stream.</summary>
    public static async Task CloseAsync(WebSocket socket)
    {
        try
        {
            if (socket.State is WebSocketState.Open or WebSocketState.CloseReceived)
            {
                using var timeout = new CancellationTokenSource(CloseWait);
                await socket.CloseOutputAsync(WebSocketCloseStatus.MessageTooBig, "message too big", timeout.Token).ConfigureAwait(false);
            }
        }
        catch (Exception ex) when (ex is WebSocketException or IOException or OperationCanceledException or ObjectDisposedException)
        {
            // The close could not be delivered; the abort below still ends the stream.
        }
        finally
        {
            socket.Abort();
        }
    }
}
