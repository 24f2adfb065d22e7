namespace Gatehouse.Proxy.Tests;

/// <summary>
/// The client connection reuses one header list for its keep-alive requests, and the upstream
/// connection one head for its answers (issue 9): each side must see each message's own fields
/// only, never one left over from the message before.
/// </summary>
public sealed class KeepAliveHeaderIsolationTests
{
    [Fact]
    public async Task SecondRequestOnAConnectionDoesNotCarryTheFirstRequestsFieldUpstream()
    {
        var heads = new List<string>();
        await using var upstream = new FakeUpstream(async (c, _) =>
        {
            while (await c.ReadRequestAsync() is { } request)
            {
                lock (heads)
                {
                    heads.Add(request.Head);
                }

                await c.WriteAsync("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok");
            }
        });
        await using var gateway = new Gateway([upstream.Uri]);
        using var client = await gateway.ConnectAsync();

        await client.SendAsync("GET /couch/a HTTP/1.1\r\nHost: g\r\nX-Trace: first-only\r\nAccept: */*\r\nX-Shared: 1\r\n\r\n");
        Assert.Equal(200, (await client.ReadResponseAsync()).Status);
        await client.SendAsync("GET /couch/b HTTP/1.1\r\nHost: g\r\nAccept: */*\r\nX-Shared: 2\r\n\r\n");
        Assert.Equal(200, (await client.ReadResponseAsync()).Status);

        Assert.Equal(2, heads.Count);
        Assert.Contains("X-Trace: first-only\r\n", heads[0], StringComparison.Ordinal);
        Assert.DoesNotContain("X-Trace", heads[1], StringComparison.OrdinalIgnoreCase);
        Assert.Contains("X-Shared: 2\r\n", heads[1], StringComparison.Ordinal);
        Assert.Contains("Accept: */*\r\n", heads[1], StringComparison.Ordinal);
        Assert.StartsWith("GET /b HTTP/1.1\r\n", heads[1], StringComparison.Ordinal);
    }

    [Fact]
    public async Task SecondAnswerOnAPooledConnectionDoesNotCarryTheFirstAnswersFieldToTheClient()
    {
        await using var upstream = new FakeUpstream(async (c, _) =>
        {
            await c.ReadRequestAsync();
            await c.WriteAsync("HTTP/1.1 200 OK\r\nX-Once: first\r\nContent-Type: text/plain\r\nX-Shared: 1\r\nContent-Length: 2\r\n\r\nok");
            await c.ReadRequestAsync();
            await c.WriteAsync("HTTP/1.1 201 Created\r\nContent-Type: text/plain\r\nX-Shared: 2\r\nContent-Length: 3\r\n\r\nnew");
        });
        await using var gateway = new Gateway([upstream.Uri]);
        using var client = await gateway.ConnectAsync();

        await client.SendAsync("GET /couch/a HTTP/1.1\r\nHost: g\r\n\r\n");
        var first = await client.ReadResponseAsync();
        await client.SendAsync("GET /couch/b HTTP/1.1\r\nHost: g\r\n\r\n");
        var second = await client.ReadResponseAsync();

        Assert.Equal(1, upstream.Accepted); // both answers came over the one pooled connection
        Assert.Equal("first", first.Headers["x-once"]);
        Assert.Equal(201, second.Status);
        Assert.False(second.Headers.ContainsKey("x-once"));
        Assert.Equal("2", second.Headers["x-shared"]);
        Assert.Equal("text/plain", second.Headers["content-type"]);
        Assert.Equal("new", second.Body);
    }
}
