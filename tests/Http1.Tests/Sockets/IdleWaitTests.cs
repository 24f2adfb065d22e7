using System.Diagnostics;
using Gatehouse.Http1.Tests.Support;

namespace Gatehouse.Http1.Tests.Sockets;

/// <summary>
/// Issue 9 over real mutual-TLS sockets: deadlines kept by the shared sweep (about a second late at
/// most, never early; a client that keeps sending is never cut), and the idle wait between requests
/// on the stream itself (what arrives after it is served, pipelined requests already buffered are
/// served first, a client leaving while idle is noticed).
/// </summary>
public sealed class IdleWaitTests(TlsFixture fixture) : IClassFixture<TlsFixture>
{
    private static readonly TimeSpan Sweep = DeadlineSweep.Shared.Period;

    [Fact]
    public async Task AnswersAStalledHeaderWith408NotBeforeItsTimeoutAndWithinOneSweepAfter()
    {
        var header = TimeSpan.FromMilliseconds(1500);
        await using var server = fixture.StartServer(TestServer.TimeoutLimits(header: header));
        await using var client = await fixture.ConnectAsync(server);
        var clock = Stopwatch.StartNew();
        await client.SendAsync("GET /slow HTTP/1.1\r\nHost: h\r\n");

        var responses = await client.ReadUntilCloseAsync(TimeSpan.FromSeconds(15));

        Assert.Equal([408], responses.Select(r => r.Status));
        Assert.True(clock.Elapsed >= header - TimeSpan.FromMilliseconds(50), $"408 after {clock.Elapsed}, before the {header} timeout");
        // The bound is the point of the sweep: limit + one period, plus generous room for a loaded machine.
        Assert.True(clock.Elapsed < header + Sweep + TimeSpan.FromSeconds(5), clock.Elapsed.ToString());
    }

    [Fact]
    public async Task ClosesAnIdleKeptAliveConnectionOnlyAfterItsTimeout()
    {
        var keepAlive = TimeSpan.FromMilliseconds(1500);
        await using var server = fixture.StartServer(TestServer.TimeoutLimits(keepAlive: keepAlive));
        await using var client = await fixture.ConnectAsync(server);
        await client.SendAsync("GET / HTTP/1.1\r\nHost: h\r\n\r\n");
        Assert.Equal(200, (await client.ReadResponseAsync()).Status);
        var clock = Stopwatch.StartNew();

        await client.ExpectCloseAsync(TimeSpan.FromSeconds(15));

        Assert.True(clock.Elapsed >= keepAlive - TimeSpan.FromMilliseconds(50), $"closed after {clock.Elapsed}, before the {keepAlive} timeout");
        Assert.True(clock.Elapsed < keepAlive + Sweep + TimeSpan.FromSeconds(5), clock.Elapsed.ToString());
    }

    [Fact]
    public async Task NeverCutsAConnectionThatKeepsSendingRequestsAndBodyBytes()
    {
        // Every timeout is 2 s and the client is busy for about 4 s, never silent for more than 200 ms:
        // each read has its own deadline, so none of them may fire. (2 s, not 1: a loaded CI machine
        // has stretched a 200 ms client pause past a 1 s body timeout and got the 408 it deserved.)
        var second = TimeSpan.FromSeconds(2);
        var limits = new Http1Limits { HeaderTimeout = second, KeepAliveTimeout = second, BodyIdleTimeout = second };
        await using var server = fixture.StartServer(limits);
        await using var client = await fixture.ConnectAsync(server);
        var busyUntil = Stopwatch.StartNew();
        var requests = 0;
        while (busyUntil.Elapsed < TimeSpan.FromSeconds(4))
        {
            await client.SendAsync("POST /trickle HTTP/1.1\r\nHost: h\r\nContent-Length: 3\r\n\r\n");
            for (var i = 0; i < 3; i++)
            {
                await Task.Delay(200);
                await client.SendAsync("x");
            }

            var response = await client.ReadResponseAsync();
            Assert.Equal(200, response.Status);
            Assert.Equal("3", response.BodyText);
            requests++;
            await Task.Delay(200);
        }

        Assert.True(requests >= 3, $"{requests} requests");
        Assert.False(client.ServerClosed);
    }

    [Fact]
    public async Task ServesARequestThatArrivesAfterALongIdleWait()
    {
        await using var client = await fixture.ConnectAsync();
        await client.SendAsync("GET /first HTTP/1.1\r\nHost: h\r\n\r\n");
        Assert.Equal(200, (await client.ReadResponseAsync()).Status);

        // Idle across more than one sweep: the connection waits on the stream, not the pipe.
        Assert.True(await client.StaysSilentAsync(Sweep + TimeSpan.FromMilliseconds(500)));
        await client.SendAsync("POST /second HTTP/1.1\r\nHost: h\r\nContent-Length: 2\r\n\r\nab");

        var second = await client.ReadResponseAsync();
        Assert.Equal(200, second.Status);
        Assert.Equal("2", second.BodyText);
    }

    [Fact]
    public async Task ServesPipelinedRequestsBufferedBehindOneThatArrivedAfterAnIdleWait()
    {
        await using var client = await fixture.ConnectAsync();
        await client.SendAsync("GET /first HTTP/1.1\r\nHost: h\r\n\r\n");
        Assert.Equal(200, (await client.ReadResponseAsync()).Status);
        Assert.True(await client.StaysSilentAsync(TimeSpan.FromMilliseconds(300)));

        // One write: after the first request the rest is already in the pipe, and must be served
        // from there rather than waited for on the stream.
        await client.SendAsync(
            "POST /1 HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n1\r\nx\r\n0\r\n\r\n"
            + "POST /2 HTTP/1.1\r\nHost: h\r\nContent-Length: 2\r\n\r\nxx"
            + "GET /3 HTTP/1.1\r\nHost: h\r\n\r\n");

        var responses = new List<RawResponse>();
        for (var i = 0; i < 3; i++)
        {
            responses.Add(await client.ReadResponseAsync(wait: TimeSpan.FromSeconds(10)));
        }

        Assert.Equal(["1", "2", "0"], responses.Select(r => r.BodyText));
        Assert.All(responses, r => Assert.Equal(200, r.Status));
    }

    [Fact]
    public async Task NoticesAClientThatLeavesWhileIdle()
    {
        // Keep-alive far longer than the test: only noticing the close can end the connection.
        await using var server = fixture.StartServer(TestServer.TimeoutLimits(keepAlive: TimeSpan.FromMinutes(5)));
        var client = await fixture.ConnectAsync(server);
        await client.SendAsync("GET / HTTP/1.1\r\nHost: h\r\n\r\n");
        Assert.Equal(200, (await client.ReadResponseAsync()).Status);
        Assert.Equal(1, server.Server.OpenConnections);

        await client.DisposeAsync();

        var clock = Stopwatch.StartNew();
        while (server.Server.OpenConnections != 0 && clock.Elapsed < TimeSpan.FromSeconds(15))
        {
            await Task.Delay(20);
        }

        Assert.Equal(0, server.Server.OpenConnections);
    }

    [Fact]
    public async Task StoppingTheServerEndsAnIdleConnectionPromptly()
    {
        var server = fixture.StartServer(TestServer.TimeoutLimits(keepAlive: TimeSpan.FromMinutes(5)));
        await using var client = await fixture.ConnectAsync(server);
        await client.SendAsync("GET / HTTP/1.1\r\nHost: h\r\n\r\n");
        Assert.Equal(200, (await client.ReadResponseAsync()).Status);

        var clock = Stopwatch.StartNew();
        await server.DisposeAsync();

        await client.ExpectCloseAsync(TimeSpan.FromSeconds(15));
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(10), clock.Elapsed.ToString()); // not the 5 min keep-alive
    }
}
