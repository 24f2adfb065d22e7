using System.Text;

namespace Gatehouse.Proxy.Tests;

/// <summary>
/// A client connection keeps one forward operation for all its keep-alive requests (issue 9). A
/// forward that failed must leave nothing for the next: not the body it had in hand, its framing,
/// or its target.
/// </summary>
public sealed class ForwardOperationReuseTests
{
    [Fact]
    public async Task ForwardAfterAFailedOneWithABodySendsOnlyItsOwnHeadAndNoBody()
    {
        var heads = new List<string>();
        await using var upstream = new FakeUpstream(async (c, index) =>
        {
            var request = await c.ReadRequestAsync();
            lock (heads)
            {
                heads.Add(request?.Head ?? string.Empty);
            }

            if (index == 0)
            {
                return; // closes without answering: a POST is not replayed, so the client gets a 502
            }

            await c.WriteAsync("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok");
        });
        await using var gateway = new Gateway([upstream.Uri]);
        using var client = await gateway.ConnectAsync();

        await client.SendAsync("POST /couch/first?x=1 HTTP/1.1\r\nHost: g\r\nContent-Type: text/plain\r\nContent-Length: 6\r\n\r\nsecret");
        Assert.Equal(502, (await client.ReadResponseAsync()).Status);
        await client.SendAsync("GET /couch/second HTTP/1.1\r\nHost: g\r\n\r\n");
        var second = await client.ReadResponseAsync();

        Assert.Equal(200, second.Status);
        Assert.Equal("ok", second.Body);
        Assert.Equal(2, heads.Count);
        Assert.StartsWith("POST /first?x=1 HTTP/1.1\r\n", heads[0], StringComparison.Ordinal);
        Assert.StartsWith("GET /second HTTP/1.1\r\n", heads[1], StringComparison.Ordinal);
        Assert.DoesNotContain("Content-Length", heads[1], StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain("Content-Type", heads[1], StringComparison.OrdinalIgnoreCase);
        // Not a byte after the head: no body, not even the zeroed room the first forward's body took.
        Assert.EndsWith("\r\n\r\n", upstream.Connections[1].Received, StringComparison.Ordinal);
        Assert.DoesNotContain("secret", upstream.Connections[1].Received, StringComparison.Ordinal);
        // The handler records a result after its answer went out: the client may read it first.
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(10);
        while (ResultCount(gateway) < 2 && DateTime.UtcNow < deadline)
        {
            await Task.Delay(10);
        }

        lock (gateway.Results)
        {
            Assert.Equal([ForwardResult.UpstreamFailedBeforeResponse, ForwardResult.Completed], gateway.Results);
        }
    }

    private static int ResultCount(Gateway gateway)
    {
        lock (gateway.Results)
        {
            return gateway.Results.Count;
        }
    }
}
