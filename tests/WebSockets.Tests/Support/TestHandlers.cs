using System.Buffers;
using System.Net.WebSockets;
using System.Text;
using Gatehouse.Http1.WebSockets;

namespace Gatehouse.WebSockets.Tests.Support;

/// <summary>The app handlers the test routes run.</summary>
internal static class TestHandlers
{
    public const int EchoMaxBytes = 4 * 1024 * 1024;

    /// <summary>
    /// Echoes every message with its type, through the size-limited reader; on a close it just
    /// returns, and the endpoint answers it (echoing the client's code).
    /// </summary>
    public static async Task EchoAsync(WebSocket socket, CancellationToken stopping)
    {
        var buffer = new ArrayBufferWriter<byte>(64 * 1024);
        while (true)
        {
            var type = await WebSocketMessages.ReceiveMessageAsync(socket, buffer, EchoMaxBytes, stopping);
            if (type == WebSocketMessageType.Close)
            {
                return;
            }

            await socket.SendAsync(buffer.WrittenMemory, type, endOfMessage: true, stopping);
        }
    }

    /// <summary>After the client's close arrives, still sends three messages, then closes (half-close).</summary>
    public static async Task HalfCloseAsync(WebSocket socket, CancellationToken stopping)
    {
        var buffer = new ArrayBufferWriter<byte>();
        while (await WebSocketMessages.ReceiveMessageAsync(socket, buffer, 1024, stopping) != WebSocketMessageType.Close)
        {
        }

        for (var i = 0; i < 3; i++)
        {
            await socket.SendAsync(Encoding.UTF8.GetBytes($"after-close-{i}"), WebSocketMessageType.Text, true, stopping);
        }

        await socket.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, "bye", stopping);
    }

    /// <summary>Sends 64 KiB messages as fast as the peer takes them, counting each send that completed.</summary>
    public static async Task FloodAsync(WebSocket socket, Probe probe, CancellationToken stopping)
    {
        var chunk = new byte[64 * 1024];
        probe.Started.TrySetResult();
        try
        {
            while (true)
            {
                await socket.SendAsync(chunk, WebSocketMessageType.Binary, true, stopping);
                probe.Sent();
            }
        }
        catch (Exception ex)
        {
            probe.Ended.TrySetResult(ex);
        }
    }

    /// <summary>Never reads; the peer's sends must stall once the buffers between are full.</summary>
    public static async Task StallAsync(WebSocket socket, Probe probe, CancellationToken stopping)
    {
        probe.Started.TrySetResult();
        try
        {
            await probe.Ended.Task.WaitAsync(TimeSpan.FromSeconds(20), stopping);
        }
        catch (TimeoutException)
        {
        }
    }

    /// <summary>Reads until the stream ends, and records how: null for a clean close, else the exception.</summary>
    public static async Task WatchAsync(WebSocket socket, Probe probe, CancellationToken stopping)
    {
        var buffer = new ArrayBufferWriter<byte>();
        probe.Started.TrySetResult();
        try
        {
            while (true)
            {
                var type = await WebSocketMessages.ReceiveMessageAsync(socket, buffer, EchoMaxBytes, stopping);
                if (type == WebSocketMessageType.Close)
                {
                    probe.Ended.TrySetResult(null);
                    return;
                }

                await socket.SendAsync(buffer.WrittenMemory, type, true, stopping);
            }
        }
        catch (Exception ex)
        {
            probe.Ended.TrySetResult(ex);
            throw;
        }
    }

    /// <summary>Says which subprotocol was agreed, then closes.</summary>
    public static async Task SayProtocolAsync(WebSocket socket, WebSocketConnectionInfo info, CancellationToken stopping)
    {
        var text = $"{info.SubProtocol ?? "(none)"}|{info.Principal.Subject}";
        await socket.SendAsync(Encoding.UTF8.GetBytes(text), WebSocketMessageType.Text, true, stopping);
        await socket.CloseAsync(WebSocketCloseStatus.NormalClosure, null, stopping);
    }

    /// <summary>Echoes one message, then reads no more and sends nothing for a long while: what it sent must still arrive.</summary>
    public static async Task ReplyThenWaitAsync(WebSocket socket, CancellationToken stopping)
    {
        var buffer = new ArrayBufferWriter<byte>();
        var type = await WebSocketMessages.ReceiveMessageAsync(socket, buffer, 1024, stopping);
        await socket.SendAsync(buffer.WrittenMemory, type, true, stopping);
        await Task.Delay(TimeSpan.FromSeconds(30), stopping);
    }

    /// <summary>Reads one message, then only pushes: five messages 100 ms apart, reading nothing more.</summary>
    public static async Task ReadOnceThenPushAsync(WebSocket socket, CancellationToken stopping)
    {
        var buffer = new ArrayBufferWriter<byte>();
        await WebSocketMessages.ReceiveMessageAsync(socket, buffer, 1024, stopping);
        for (var i = 0; i < 5; i++)
        {
            await socket.SendAsync(Encoding.UTF8.GetBytes($"push-{i}"), WebSocketMessageType.Text, true, stopping);
            await Task.Delay(100, stopping);
        }

        await Task.Delay(TimeSpan.FromSeconds(30), stopping);
    }

    /// <summary>Echoes one message and aborts at once, while the echo may still be held unflushed.</summary>
    public static async Task ReplyThenAbortAsync(WebSocket socket, Probe probe, CancellationToken stopping)
    {
        var buffer = new ArrayBufferWriter<byte>();
        var type = await WebSocketMessages.ReceiveMessageAsync(socket, buffer, 1024, stopping);
        await socket.SendAsync(buffer.WrittenMemory, type, true, stopping);
        socket.Abort();
        probe.Ended.TrySetResult(null);
    }
}
