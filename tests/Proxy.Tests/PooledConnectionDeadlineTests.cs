namespace Gatehouse.Proxy.Tests;

/// <summary>
/// An upstream connection keeps its deadlines and its client watch across the forwards it carries
/// (issue 9: no token source or timer per request). These check that each forward on a pooled
/// connection still gets its own: a fresh answer deadline, and a watch that notices its own client.
/// </summary>
public sealed class PooledConnectionDeadlineTests
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(10);

    private static Task Ok(FakeConnection c) => c.WriteAsync("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok");

    [Fact]
    public async Task SecondForwardOnAPooledConnectionStillTimesOutWhenTheUpstreamStaysSilent()
    {
        await using var upstream = new FakeUpstream(async (c, _) =>
        {
            await c.ReadRequestAsync();
            await Ok(c);
            await c.ReadRequestAsync();
            await c.WaitForCloseAsync(Wait);
        });
        var headerTimeout = TimeSpan.FromMilliseconds(300);
        await using var gateway = new Gateway([upstream.Uri], new UpstreamOptions { ResponseHeaderTimeout = headerTimeout });
        using var client = await gateway.ConnectAsync();

        await client.SendAsync("GET /couch/a HTTP/1.1\r\nHost: g\r\n\r\n");
        Assert.Equal(200, (await client.ReadResponseAsync()).Status);
        // Longer than the header timeout: the first forward's deadline must not be left armed either.
        await Task.Delay(headerTimeout * 2);
        await client.SendAsync("GET /couch/b HTTP/1.1\r\nHost: g\r\n\r\n");
        var second = await client.ReadResponseAsync();

        Assert.Equal(504, second.Status);
        Assert.Equal(1, upstream.Accepted); // the second forward went over the pooled connection
    }

    [Fact]
    public async Task FirstForwardAnsweredInTimeLeavesThePooledConnectionUsableAfterTheHeaderTimeout()
    {
        var headerTimeout = TimeSpan.FromMilliseconds(300);
        await using var upstream = new FakeUpstream(async (c, _) =>
        {
            while (await c.ReadRequestAsync() is not null)
            {
                await Ok(c);
            }
        });
        await using var gateway = new Gateway([upstream.Uri], new UpstreamOptions { ResponseHeaderTimeout = headerTimeout });
        using var client = await gateway.ConnectAsync();

        for (var i = 0; i < 3; i++)
        {
            await client.SendAsync("GET /couch/a HTTP/1.1\r\nHost: g\r\n\r\n");
            Assert.Equal(200, (await client.ReadResponseAsync()).Status);
            await Task.Delay(headerTimeout * 2);
        }

        Assert.Equal(1, upstream.Accepted);
        Assert.Equal(1, gateway.Pool.ConnectionsOpened);
        Assert.Equal([ForwardResult.Completed, ForwardResult.Completed, ForwardResult.Completed], gateway.Results);
    }

    [Fact]
    public async Task ClientWatchOfAPooledConnectionNoticesTheSecondForwardsClientLeaving()
    {
        var secondRequestSeen = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var upstreamClosed = new TaskCompletionSource<bool>(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var upstream = new FakeUpstream(async (c, index) =>
        {
            if (index > 0)
            {
                return;
            }

            await c.ReadRequestAsync();
            await Ok(c);
            await c.ReadRequestAsync();
            secondRequestSeen.TrySetResult();
            upstreamClosed.TrySetResult(await c.WaitForCloseAsync(Wait));
        });
        // A header timeout far longer than the wait below: only the client watch can close the upstream in time.
        await using var gateway = new Gateway([upstream.Uri], new UpstreamOptions { ResponseHeaderTimeout = TimeSpan.FromMinutes(5) });

        using (var first = await gateway.ConnectAsync())
        {
            await first.SendAsync("GET /couch/a HTTP/1.1\r\nHost: g\r\n\r\n");
            Assert.Equal(200, (await first.ReadResponseAsync()).Status);
        }

        var second = await gateway.ConnectAsync();
        await second.SendAsync("GET /couch/b HTTP/1.1\r\nHost: g\r\n\r\n");
        await secondRequestSeen.Task.WaitAsync(Wait);
        second.Dispose();

        Assert.True(await upstreamClosed.Task.WaitAsync(Wait * 2), "the pooled upstream connection was not closed after its client left");
        Assert.Equal(1, upstream.Accepted);
    }
}
