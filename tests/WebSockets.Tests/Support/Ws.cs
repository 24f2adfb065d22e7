using System.Buffers;
using System.Net.WebSockets;
using System.Text;
using Gatehouse.Http1.WebSockets;

namespace Gatehouse.WebSockets.Tests.Support;

/// <summary>Small helpers for the client side of the tests.</summary>
internal static class Ws
{
    public static CancellationToken Soon(int seconds = 10) => new CancellationTokenSource(TimeSpan.FromSeconds(seconds)).Token;

    public static Task SendTextAsync(WebSocket socket, string text) =>
        socket.SendAsync(Encoding.UTF8.GetBytes(text).AsMemory(), WebSocketMessageType.Text, true, Soon()).AsTask();

    public static async Task<string?> ReceiveTextAsync(WebSocket socket)
    {
        var buffer = new ArrayBufferWriter<byte>();
        var type = await WebSocketMessages.ReceiveMessageAsync(socket, buffer, 64 * 1024 * 1024, Soon());
        return type == WebSocketMessageType.Close ? null : Encoding.UTF8.GetString(buffer.WrittenSpan);
    }
}
