using System.Buffers;
using System.Net.WebSockets;

namespace Gatehouse.Http1.WebSockets;

/// <summary>Whole-message reading on top of the frame-by-frame <see cref="WebSocket.ReceiveAsync(Memory{byte}, CancellationToken)"/>.</summary>
public static class WebSocketMessages
{
    /// <summary>
    /// Reads one complete message into <paramref name="buffer"/> (cleared first) and returns its type,
    /// or <see cref="WebSocketMessageType.Close"/> when the peer closed (see <see cref="WebSocket.CloseStatus"/>;
    /// a partly received message is then discarded). A message longer than <paramref name="maxMessageBytes"/>
    /// closes the stream with 1009 and throws <see cref="WebSocketException"/>; never more than
    /// <paramref name="maxMessageBytes"/> + 1 bytes are buffered.
    /// </summary>
    public static async ValueTask<WebSocketMessageType> ReceiveMessageAsync(WebSocket socket, ArrayBufferWriter<byte> buffer, int maxMessageBytes, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(socket);
        ArgumentNullException.ThrowIfNull(buffer);
        ArgumentOutOfRangeException.ThrowIfNegative(maxMessageBytes);

        buffer.ResetWrittenCount();
        while (true)
        {
            // Ask for at most one byte past the limit, so an oversized message is seen without holding it.
            var room = (int)Math.Min(64 * 1024, (long)maxMessageBytes - buffer.WrittenCount + 1);
            var memory = buffer.GetMemory(room)[..room];
            var result = await socket.ReceiveAsync(memory, cancellationToken).ConfigureAwait(false);
            if (result.MessageType == WebSocketMessageType.Close)
            {
                buffer.ResetWrittenCount();
                return WebSocketMessageType.Close;
            }

            buffer.Advance(result.Count);
            if (buffer.WrittenCount > maxMessageBytes)
            {
                await MessageTooBig.CloseAndThrowAsync(socket, maxMessageBytes).ConfigureAwait(false);
            }

            if (result.EndOfMessage)
            {
                return result.MessageType;
            }
        }
    }
}
