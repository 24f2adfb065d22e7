using System.Buffers;
using Gatehouse.Testing;
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
        var (socket, peer) = await LoopbackSockets.ConnectedPairAsync();
        using var node = peer;
        await using var connection = new UpstreamConnection(
            UpstreamNode.FromUri(new Uri($"http://{socket.RemoteEndPoint}")), socket, MemoryPool<byte>.Shared);
        var stream = Assert.IsType<ReadAheadSocketStream>(connection.Stream);

        // A first answer found waiting at the readiness check: the stream counts the connection busy.
        await LoopbackSockets.SendAndWaitUntilArrivedAsync(node, socket, "HTTP/1.1 204 No Content\r\n\r\n"u8.ToArray());
        Assert.Equal(0, await stream.ReadAsync(Memory<byte>.Empty));
        var first = await connection.Reader.ReadAsync();
        connection.Reader.AdvanceTo(first.Buffer.End);
        Assert.False(connection.HasUnreadBytes());

        // Then bytes nobody asked for: the next readiness check reads them ahead of the pipe.
        await LoopbackSockets.SendAndWaitUntilArrivedAsync(node, socket, "HTTP/1.1 200 OK\r\n\r\n"u8.ToArray());
        Assert.Equal(0, await stream.ReadAsync(Memory<byte>.Empty));
        Assert.True(stream.HasReadAhead);
        Assert.Equal(0, socket.Available);

        Assert.True(connection.HasUnreadBytes());
    }
}
