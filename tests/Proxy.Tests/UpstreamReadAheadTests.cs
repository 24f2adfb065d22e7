using System.Buffers;
using System.Net;
using System.Net.Sockets;
using System.Text;
using Gatehouse.Wire;

namespace Gatehouse.Proxy.Tests;

/// <summary>
/// Bytes an upstream connection's stream read ahead of its pipe are unread bytes: after an answer they
/// mean the framing is in doubt and the connection must not go back to the pool, although neither the
/// pipe nor the socket shows them any more.
/// </summary>
public sealed class UpstreamReadAheadTests
{
    [Fact]
    public async Task BytesReadAheadAfterAnAnswerKeepTheConnectionOutOfThePool()
    {
        using var listener = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        listener.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        listener.Listen(1);
        var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        await socket.ConnectAsync(listener.LocalEndPoint!);
        using var node = await listener.AcceptAsync();
        await using var connection = new UpstreamConnection(
            UpstreamNode.FromUri(new Uri($"http://{listener.LocalEndPoint}")), socket, MemoryPool<byte>.Shared);
        var stream = Assert.IsType<ReadAheadSocketStream>(connection.Stream);

        // A first answer found waiting at the readiness check: the stream counts the connection busy.
        await SendAndWaitUntilArrivedAsync(node, socket, "HTTP/1.1 204 No Content\r\n\r\n");
        Assert.Equal(0, await stream.ReadAsync(Memory<byte>.Empty));
        var first = await connection.Reader.ReadAsync();
        connection.Reader.AdvanceTo(first.Buffer.End);
        Assert.False(connection.HasUnreadBytes());

        // Then bytes nobody asked for: the next readiness check reads them ahead of the pipe.
        await SendAndWaitUntilArrivedAsync(node, socket, "HTTP/1.1 200 OK\r\n\r\n");
        Assert.Equal(0, await stream.ReadAsync(Memory<byte>.Empty));
        Assert.True(stream.HasReadAhead);
        Assert.Equal(0, socket.Available);

        Assert.True(connection.HasUnreadBytes());
    }

    private static async Task SendAndWaitUntilArrivedAsync(Socket from, Socket to, string text)
    {
        var bytes = Encoding.ASCII.GetBytes(text);
        await from.SendAsync(bytes, SocketFlags.None);
        var deadline = Environment.TickCount64 + 10_000;
        while (to.Available < bytes.Length)
        {
            Assert.True(Environment.TickCount64 < deadline, "the bytes never arrived");
            to.Poll(10_000, SelectMode.SelectRead);
            await Task.Yield();
        }
    }
}
