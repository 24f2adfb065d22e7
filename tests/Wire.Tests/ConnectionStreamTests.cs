using System.Net.Sockets;
using System.Security.Cryptography;
using Gatehouse.Testing;

namespace Gatehouse.Wire.Tests;

/// <summary>
/// The accepted socket's stream writes without waiting where the kernel takes the bytes at once and
/// finishes the rest asynchronously, over real loopback sockets.
/// </summary>
public sealed class ConnectionStreamTests
{
    [Fact]
    public async Task AWriteLargerThanTheSendBufferArrivesWholeOnceThePeerReads()
    {
        var (server, client) = await LoopbackSockets.ConnectedPairAsync();
        using var peer = client;
        // Small buffers so the first send cannot take it all: the rest must go asynchronously.
        server.SendBufferSize = 16 * 1024;
        peer.ReceiveBufferSize = 16 * 1024;
        await using var stream = new ConnectionStream(server);
        var payload = RandomNumberGenerator.GetBytes(8 * 1024 * 1024);

        var write = stream.WriteAsync(payload).AsTask();
        Assert.False(write.IsCompleted); // the peer has not read: the kernel cannot hold 8 MiB
        var received = new byte[payload.Length];
        var total = 0;
        while (total < received.Length)
        {
            var read = await peer.ReceiveAsync(received.AsMemory(total), SocketFlags.None).AsTask().WaitAsync(TimeSpan.FromSeconds(30));
            Assert.NotEqual(0, read);
            total += read;
        }

        await write.WaitAsync(TimeSpan.FromSeconds(30));
        Assert.Equal(payload, received);
    }

    [Fact]
    public async Task ASmallWriteCompletesAtOnceAndReadsAreTheSocketsBytes()
    {
        var (server, client) = await LoopbackSockets.ConnectedPairAsync();
        using var peer = client;
        await using var stream = new ConnectionStream(server);

        var write = stream.WriteAsync("hello"u8.ToArray());
        Assert.True(write.IsCompletedSuccessfully);
        var buffer = new byte[5];
        Assert.Equal(5, await peer.ReceiveAsync(buffer, SocketFlags.None));
        Assert.Equal("hello"u8.ToArray(), buffer);

        await peer.SendAsync("world"u8.ToArray(), SocketFlags.None);
        var into = new byte[5];
        var got = 0;
        while (got < 5)
        {
            got += await stream.ReadAsync(into.AsMemory(got));
        }

        Assert.Equal("world"u8.ToArray(), into);
    }

    [Fact]
    public async Task SynchronousReadsAndWritesStillWaitOnTheNonBlockingSocket()
    {
        var (server, client) = await LoopbackSockets.ConnectedPairAsync();
        using var peer = client;
        await using var stream = new ConnectionStream(server);

        // Nothing has arrived yet: a synchronous read waits for it rather than failing with WouldBlock.
        var reading = Task.Run(() =>
        {
            var buffer = new byte[3];
            return (stream.Read(buffer, 0, 3), buffer);
        });
        await peer.SendAsync("abc"u8.ToArray(), SocketFlags.None);
        var (count, bytes) = await reading.WaitAsync(TimeSpan.FromSeconds(30));
        Assert.Equal(3, count);
        Assert.Equal("abc"u8.ToArray(), bytes);

        stream.Write("xyz"u8);
        var echo = new byte[3];
        Assert.Equal(3, await peer.ReceiveAsync(echo, SocketFlags.None));
        Assert.Equal("xyz"u8.ToArray(), echo);
    }

    [Fact]
    public async Task AWriteToAPeerThatResetFailsWithAnIOException()
    {
        var (server, client) = await LoopbackSockets.ConnectedPairAsync();
        await using var stream = new ConnectionStream(server);
        client.LingerState = new LingerOption(true, 0); // close with RST
        client.Dispose();

        var failure = await Assert.ThrowsAsync<IOException>(async () =>
        {
            // Bounded: a write the kernel took before it saw the reset would succeed.
            for (var i = 0; i < 100; i++)
            {
                await stream.WriteAsync(new byte[1024]);
            }
        });
        Assert.IsType<SocketException>(failure.InnerException);
    }

    [Fact]
    public async Task HeldWritesGoOutBeforeTheNextReadAndInOrder()
    {
        var (server, client) = await LoopbackSockets.ConnectedPairAsync();
        using var peer = client;
        await using var stream = new ConnectionStream(server);
        stream.HoldWrites();

        await stream.WriteAsync("hel"u8.ToArray());
        await stream.WriteAsync(new byte[5000]); // past the first rented array's 4 KiB
        await stream.WriteAsync("lo"u8.ToArray());
        Assert.Equal(0, peer.Available);

        // The reader waits for the peer, which answers only what it was sent: the held bytes go first.
        var read = stream.ReadAsync(new byte[1]).AsTask();
        var received = new byte[5005];
        var got = 0;
        while (got < received.Length)
        {
            got += await peer.ReceiveAsync(received.AsMemory(got), SocketFlags.None).AsTask().WaitAsync(TimeSpan.FromSeconds(10));
        }

        Assert.Equal("hel"u8.ToArray(), received[..3]);
        Assert.Equal("lo"u8.ToArray(), received[^2..]);
        await peer.SendAsync("x"u8.ToArray(), SocketFlags.None);
        Assert.Equal(1, await read.WaitAsync(TimeSpan.FromSeconds(10)));

        // Still holding after the read: the next flight waits too, until released.
        await stream.WriteAsync("again"u8.ToArray());
        Assert.Equal(0, peer.Available);
        await stream.ReleaseHeldAsync(CancellationToken.None);
        var last = new byte[5];
        Assert.Equal(5, await peer.ReceiveAsync(last, SocketFlags.None));
        Assert.Equal("again"u8.ToArray(), last);
    }

    [Fact]
    public async Task DiscardedWritesNeverReachThePeerAndLaterWritesGoStraightOut()
    {
        var (server, client) = await LoopbackSockets.ConnectedPairAsync();
        using var peer = client;
        await using var stream = new ConnectionStream(server);
        stream.HoldWrites();

        await stream.WriteAsync("finished"u8.ToArray());
        stream.DiscardHeld();
        await stream.WriteAsync("alert"u8.ToArray());
        stream.CloseForWriting();

        var received = new byte[64];
        var got = 0;
        int read;
        while ((read = await peer.ReceiveAsync(received.AsMemory(got), SocketFlags.None)) > 0)
        {
            got += read;
        }

        Assert.Equal("alert"u8.ToArray(), received[..got]);
    }
}
