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
    public async Task BodySilenceLongerThanTheIdleTimeoutCutsTheAnswerOffOnASecondForward()
    {
        // The body deadline arms only when a read waits (issue 22): the first answer's body arrives with
        // its head and never arms it; the second's stalls and must still be cut off.
        await using var upstream = new FakeUpstream(async (c, _) =>
        {
            await c.ReadRequestAsync();
            await Ok(c);
            await c.ReadRequestAsync();
            await c.WriteAsync("HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc");
            await c.WaitForCloseAsync(Wait);
        });
        await using var gateway = new Gateway([upstream.Uri], new UpstreamOptions { IdleTimeout = TimeSpan.FromMilliseconds(300) });
        using var client = await gateway.ConnectAsync();
        await client.SendAsync("GET /couch/a HTTP/1.1\r\nHost: g\r\n\r\n");
        Assert.Equal(200, (await client.ReadResponseAsync()).Status);

        var started = System.Diagnostics.Stopwatch.StartNew();
        await client.SendAsync("GET /couch/b HTTP/1.1\r\nHost: g\r\n\r\n");
        var (status, _, _) = await client.ReadHeadAsync();
        var rest = await client.ReadToCloseAsync(Wait);

        Assert.Equal(200, status);
        Assert.Equal("abc", rest); // closed short of the 10 bytes promised
        Assert.InRange(started.Elapsed, TimeSpan.FromMilliseconds(250), Wait);
        Assert.Equal([ForwardResult.Completed], gateway.Results);
        Assert.Contains(gateway.Errors, e => e is ForwardAbortedException { Result: ForwardResult.UpstreamFailedMidResponse });
    }

    [Fact]
    public async Task BodyPausesShorterThanTheIdleTimeoutPassEvenWhenTheyAddUpToMore()
    {
        // Pauses of a third of the timeout, four of them: each under it, together over it. On a
        // timeout of 400 ms a 133 ms pause had only 267 ms to spare, and a busy CI host once took more.
        var idle = TimeSpan.FromMilliseconds(1200);
        await using var upstream = new FakeUpstream(async (c, _) =>
        {
            await c.ReadRequestAsync();
            await c.WriteAsync("HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\n");
            foreach (var piece in "abcd")
            {
                await Task.Delay(idle / 3);
                await c.WriteAsync(piece.ToString());
            }

            await c.WaitForCloseAsync(Wait);
        });
        await using var gateway = new Gateway([upstream.Uri], new UpstreamOptions { IdleTimeout = idle });
        using var client = await gateway.ConnectAsync();

        await client.SendAsync("GET /couch/a HTTP/1.1\r\nHost: g\r\n\r\n");
        var response = await client.ReadResponseAsync();

        Assert.Equal(200, response.Status);
        Assert.Equal("abcd", response.Body); // a cut-off answer would end short and close
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
