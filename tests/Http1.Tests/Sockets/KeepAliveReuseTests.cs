using System.Collections.Concurrent;
using Gatehouse.Http1.Tests.Support;

namespace Gatehouse.Http1.Tests.Sockets;

/// <summary>
/// A connection keeps one response, one exchange and one header list for all its keep-alive
/// requests (issue 9). Each request must still start from nothing: no header, status, framing or
/// request field of the one before.
/// </summary>
public sealed class KeepAliveReuseTests
{
    [Fact]
    public async Task SecondResponseOnAConnectionStartsWithoutTheFirstOnesStatusHeadersOrFraming()
    {
        var handler = new ScriptedHandler(async exchange =>
        {
            var response = exchange.Response;
            if (exchange.Request.Target.Path == "/first")
            {
                // Chunked (no Content-Length), an error status and a header of its own.
                response.StatusCode = 404;
                response.Headers.Add("X-First", "only");
                await response.WriteAsync("missing"u8.ToArray());
                return;
            }

            await response.SendAsync(200, "text/plain", "ok"u8.ToArray());
        });
        await using var server = TestServer.StartPlain(handler: handler);
        await using var client = await RawHttpClient.ConnectPlainAsync(server.Endpoint);

        await client.SendAsync("GET /first HTTP/1.1\r\nHost: h\r\nX-Request-Only: 1\r\n\r\n");
        var first = await client.ReadResponseAsync();
        await client.SendAsync("GET /second HTTP/1.1\r\nHost: h\r\n\r\n");
        var second = await client.ReadResponseAsync();

        Assert.Equal(404, first.Status);
        Assert.Equal("only", first.Header("X-First"));
        Assert.Equal("chunked", first.Header("Transfer-Encoding"));
        Assert.Equal(200, second.Status);
        Assert.Null(second.Header("X-First"));
        Assert.Null(second.Header("Transfer-Encoding"));
        Assert.Equal("2", second.Header("Content-Length"));
        Assert.Equal("ok", second.BodyText);
        Assert.Equal(["1", null], handler.RequestOnlyValues);
        Assert.Equal(2, handler.Exchanges.Count);
        Assert.True(handler.StartedTimestamps[1] >= handler.StartedTimestamps[0]);
    }

    [Fact]
    public async Task SecondRequestOnAConnectionIsTheSameObjectWithOnlyItsOwnFields()
    {
        var seen = new List<string>();
        var requests = new List<Request>();
        var handler = new ScriptedHandler(async exchange =>
        {
            var request = exchange.Request;
            requests.Add(request);
            seen.Add($"{request.Method} {request.Target.ToOriginForm()} host={request.Host} framing={request.Framing} length={request.ContentLength} expect={request.ExpectContinue} headers={request.Headers.Count}");
            var body = new byte[16];
            while (await exchange.Body.ReadAsync(body) > 0)
            {
                // Drained so the connection is kept for the second request.
            }

            await exchange.Response.SendAsync(200, "text/plain", "ok"u8.ToArray());
        });
        await using var server = TestServer.StartPlain(handler: handler);
        await using var client = await RawHttpClient.ConnectPlainAsync(server.Endpoint);

        await client.SendAsync("POST /first?q=1 HTTP/1.1\r\nHost: one\r\nContent-Length: 3\r\nX-Request-Only: 1\r\n\r\nabc");
        Assert.Equal(200, (await client.ReadResponseAsync()).Status);
        await client.SendAsync("GET /second HTTP/1.1\r\nHost: two\r\n\r\n");
        Assert.Equal(200, (await client.ReadResponseAsync()).Status);

        Assert.Equal(
            [
                "POST /first?q=1 host=one framing=ContentLength length=3 expect=False headers=3",
                "GET /second host=two framing=None length=-1 expect=False headers=1",
            ],
            seen);
        Assert.Same(requests[0], requests[1]); // one request object per connection (issue 9)
        Assert.Equal(["1", null], handler.RequestOnlyValues);
    }

    private sealed class ScriptedHandler(Func<HttpExchange, Task> answer) : IRequestHandler
    {
        public ConcurrentQueue<HttpExchange> Exchanges { get; } = new();

        public List<string?> RequestOnlyValues { get; } = [];

        public List<long> StartedTimestamps { get; } = [];

        public async ValueTask HandleAsync(HttpExchange exchange, CancellationToken stopping)
        {
            Exchanges.Enqueue(exchange);
            RequestOnlyValues.Add(exchange.Request.Headers["X-Request-Only"]);
            StartedTimestamps.Add(exchange.StartedTimestamp);
            Assert.Equal(200, exchange.Response.StatusCode);
            Assert.Equal(0, exchange.Response.Headers.Count);
            Assert.False(exchange.Response.HasStarted);
            await answer(exchange);
        }
    }
}
