using System.Net.Sockets;
using System.Security.Cryptography;
using Gatehouse.Testing;

namespace Gatehouse.Wire.Tests;

/// <summary>
/// Zero-byte reads on a busy connection read the bytes ahead; on a connection that waits they hold
/// no buffer; either way the reader sees the peer's bytes, in order, then its end. Real loopback sockets.
/// </summary>
public sealed class ReadAheadSocketStreamTests
{
    [Fact]
    public async Task AReadinessCheckFindingBytesAtOnceMakesTheNextOneReadThemAhead()
    {
        var (server, peer) = await LoopbackSockets.ConnectedPairAsync();
        using var client = peer;
        await using var stream = new ReadAheadSocketStream(server, ownsSocket: true);

        await LoopbackSockets.SendAndWaitUntilArrivedAsync(client, server, "one"u8.ToArray());
        var first = stream.ReadAsync(Memory<byte>.Empty);
        Assert.True(first.IsCompletedSuccessfully); // a peek: the bytes stay in the socket
        Assert.False(stream.HasReadAhead);
        Assert.Equal("one", await ReadTextAsync(stream, 3));

        await LoopbackSockets.SendAndWaitUntilArrivedAsync(client, server, "two"u8.ToArray());
        var second = stream.ReadAsync(Memory<byte>.Empty);
        Assert.True(second.IsCompletedSuccessfully);
        Assert.True(stream.HasReadAhead);       // received ahead, no longer in the socket
        Assert.Equal(0, server.Available);
        Assert.Equal("two", await ReadTextAsync(stream, 3));
        Assert.False(stream.HasReadAhead);       // drained: the pooled buffer went back
    }

    [Fact]
    public async Task ABusyConnectionWhosePeerGoesQuietWaitsWithoutHoldingBytes()
    {
        var (server, peer) = await LoopbackSockets.ConnectedPairAsync();
        using var client = peer;
        await using var stream = new ReadAheadSocketStream(server, ownsSocket: true);
        await LoopbackSockets.SendAndWaitUntilArrivedAsync(client, server, "a"u8.ToArray());
        Assert.Equal(0, await stream.ReadAsync(Memory<byte>.Empty));
        Assert.Equal("a", await ReadTextAsync(stream, 1));

        var wait = stream.ReadAsync(Memory<byte>.Empty); // busy, but nothing there: a plain wait
        Assert.False(wait.IsCompleted);
        Assert.False(stream.HasReadAhead);
        await client.SendAsync("later"u8.ToArray(), SocketFlags.None);
        Assert.Equal(0, await wait.AsTask().WaitAsync(TimeSpan.FromSeconds(10)));
        Assert.Equal("later", await ReadTextAsync(stream, 5));
    }

    [Fact]
    public async Task ThePeersEndMetByAReadAheadComesAfterItsLastBytes()
    {
        var (server, peer) = await LoopbackSockets.ConnectedPairAsync();
        using var client = peer;
        await using var stream = new ReadAheadSocketStream(server, ownsSocket: true);
        await LoopbackSockets.SendAndWaitUntilArrivedAsync(client, server, "x"u8.ToArray());
        Assert.Equal(0, await stream.ReadAsync(Memory<byte>.Empty));
        Assert.Equal("x", await ReadTextAsync(stream, 1));

        await LoopbackSockets.SendAndWaitUntilArrivedAsync(client, server, "last"u8.ToArray());
        client.Shutdown(SocketShutdown.Send);
        Assert.Equal(0, await stream.ReadAsync(Memory<byte>.Empty));
        Assert.Equal("last", await ReadTextAsync(stream, 4));
        Assert.Equal(0, await stream.ReadAsync(Memory<byte>.Empty).AsTask().WaitAsync(TimeSpan.FromSeconds(10)));
        Assert.Equal(0, await stream.ReadAsync(new byte[16]).AsTask().WaitAsync(TimeSpan.FromSeconds(10)));
        Assert.Equal(0, await stream.ReadAsync(new byte[16]));
    }

    [Fact]
    public async Task ManyBytesComeWholeAndInOrderThroughReadAheadsAndPlainReads()
    {
        var (server, peer) = await LoopbackSockets.ConnectedPairAsync();
        using var client = peer;
        await using var stream = new ReadAheadSocketStream(server, ownsSocket: true);
        var payload = RandomNumberGenerator.GetBytes(1024 * 1024);
        var send = Task.Run(async () =>
        {
            for (var sent = 0; sent < payload.Length; sent += 40_000)
            {
                await client.SendAsync(payload.AsMemory(sent, Math.Min(40_000, payload.Length - sent)), SocketFlags.None);
            }

            client.Shutdown(SocketShutdown.Send);
        });

        var received = new MemoryStream();
        var buffer = new byte[3000]; // smaller than a read-ahead: one is drained over several reads
        while (true)
        {
            Assert.Equal(0, await stream.ReadAsync(Memory<byte>.Empty).AsTask().WaitAsync(TimeSpan.FromSeconds(30)));
            var read = await stream.ReadAsync(buffer).AsTask().WaitAsync(TimeSpan.FromSeconds(30));
            if (read == 0)
            {
                break;
            }

            received.Write(buffer, 0, read);
        }

        await send;
        Assert.Equal(payload, received.ToArray());
    }

    [Fact]
    public async Task ASynchronousReadTakesTheBytesReadAheadFirst()
    {
        var (server, peer) = await LoopbackSockets.ConnectedPairAsync();
        using var client = peer;
        await using var stream = new ReadAheadSocketStream(server, ownsSocket: true);
        await LoopbackSockets.SendAndWaitUntilArrivedAsync(client, server, "1"u8.ToArray());
        Assert.Equal(0, await stream.ReadAsync(Memory<byte>.Empty));
        Assert.Equal("1", await ReadTextAsync(stream, 1));
        await LoopbackSockets.SendAndWaitUntilArrivedAsync(client, server, "23"u8.ToArray());
        Assert.Equal(0, await stream.ReadAsync(Memory<byte>.Empty));
        Assert.True(stream.HasReadAhead);

        Assert.Equal('2', stream.ReadByte());
        var rest = new byte[8];
        Assert.Equal(1, stream.Read(rest, 0, rest.Length));
        Assert.Equal((byte)'3', rest[0]);
    }

    private static async Task<string> ReadTextAsync(Stream stream, int count)
    {
        var buffer = new byte[count];
        var got = 0;
        while (got < count)
        {
            var read = await stream.ReadAsync(buffer.AsMemory(got)).AsTask().WaitAsync(TimeSpan.FromSeconds(10));
            Assert.NotEqual(0, read);
            got += read;
        }

        return System.Text.Encoding.ASCII.GetString(buffer);
    }
}
