using Gatehouse.Http1.Tests.Support;
using Gatehouse.Wire;

namespace Gatehouse.Http1.Tests.Sockets;

/// <summary>
/// A connection gives its request parts (parser, request, response, exchange) back to the server's
/// pool before it waits for its next request, so idle keep-alive connections hold none (issue 9).
/// The same objects then serve another connection: nothing of the first may show there.
/// </summary>
public sealed class ExchangePartsPoolingTests
{
    /// <summary>Waits, bounded, for the next set the pool is given back (each return is counted once).</summary>
    private static async Task WaitForFreePartsAsync(SemaphoreSlim returns) =>
        Assert.True(await returns.WaitAsync(TimeSpan.FromSeconds(10)), "the connection never handed its parts back");

    [Fact]
    public async Task AnIdleConnectionsPartsServeTheNextConnectionWithNothingOfTheFirst()
    {
        var seen = new List<(HttpExchange Exchange, Request Request, System.IO.Pipelines.PipeWriter? Writer, string Text, int RemotePort)>();
        var handler = new Handler(async exchange =>
        {
            var request = exchange.Request;
            lock (seen)
            {
                seen.Add((exchange, request, exchange.Writer, $"{request.Method} {request.Target.ToOriginForm()} host={request.Host} headers={request.Headers.Count} secret={request.Headers["X-Secret"] ?? "-"}", exchange.RemoteEndPoint.Port));
            }

            exchange.Response.Headers.Add("X-Answered-To", request.Target.Path);
            await exchange.Response.SendAsync(200, "text/plain", "ok"u8.ToArray());
        });
        using var returns = new SemaphoreSlim(0);
        var pool = new ExchangePartsPool(TestServer.ShortLimits()) { Returned = () => returns.Release() };
        await using var server = TestServer.StartPlain(handler: handler, partsPool: pool);
        await using var first = await RawHttpClient.ConnectPlainAsync(server.Endpoint);
        await using var second = await RawHttpClient.ConnectPlainAsync(server.Endpoint);

        await first.SendAsync("GET /first HTTP/1.1\r\nHost: one\r\nX-Secret: first-only\r\n\r\n");
        var firstAnswer = await first.ReadResponseAsync();
        // The client can read the answer a moment before the server's connection hands its parts
        // back (on a loaded machine, many moments): wait for that, bounded, then the second gets them.
        await WaitForFreePartsAsync(returns);
        await second.SendAsync("GET /second HTTP/1.1\r\nHost: two\r\n\r\n");
        var secondAnswer = await second.ReadResponseAsync();
        await WaitForFreePartsAsync(returns);
        await first.SendAsync("GET /third HTTP/1.1\r\nHost: one\r\n\r\n");
        var thirdAnswer = await first.ReadResponseAsync();

        Assert.Equal("/first", firstAnswer.Header("X-Answered-To"));
        Assert.Equal("/second", secondAnswer.Header("X-Answered-To"));
        Assert.Equal("/third", thirdAnswer.Header("X-Answered-To"));
        Assert.Equal(
            ["GET /first host=one headers=2 secret=first-only", "GET /second host=two headers=1 secret=-", "GET /third host=one headers=1 secret=-"],
            seen.Select(s => s.Text));
        Assert.Equal([first.LocalEndPoint.Port, second.LocalEndPoint.Port, first.LocalEndPoint.Port], seen.Select(s => s.RemotePort));
        // One set of parts served all three requests on two connections.
        Assert.Same(seen[0].Exchange, seen[1].Exchange);
        Assert.Same(seen[0].Exchange, seen[2].Exchange);
        Assert.Same(seen[0].Request, seen[1].Request);
        // And so did one pair of pipes, bound to each connection's stream in turn.
        Assert.Same(seen[0].Writer, seen[1].Writer);
        Assert.Same(seen[0].Writer, seen[2].Writer);
    }

    [Fact]
    public async Task AConnectionServingBackToBackKeepsItsPartsUntilItEnds()
    {
        var exchanges = new List<HttpExchange>();
        var handler = new Handler(async exchange =>
        {
            lock (exchanges)
            {
                exchanges.Add(exchange);
            }

            await exchange.Response.SendAsync(200, "text/plain", "ok"u8.ToArray());
        });
        using var returns = new SemaphoreSlim(0);
        var pool = new ExchangePartsPool(TestServer.ShortLimits()) { Returned = () => returns.Release() };
        await using var server = TestServer.StartPlain(handler: handler, partsPool: pool);
        await using var client = await RawHttpClient.ConnectPlainAsync(server.Endpoint);

        // A first request's parts are given back before the next wait (the many-idle case, issue 9).
        await client.SendAsync("GET /1 HTTP/1.1\r\nHost: h\r\n\r\n");
        await client.ReadResponseAsync();
        await WaitForFreePartsAsync(returns);

        // /2 came at once and was small: the connection keeps its set through the wait for /3,
        // and again for /4 (issue 22). A set parked between them would have been counted before
        // /3's answer left: the connection parks before it reads the next request.
        foreach (var path in new[] { "/2", "/3", "/4" })
        {
            await client.SendAsync($"GET {path} HTTP/1.1\r\nHost: h\r\n\r\n");
            Assert.Equal(200, (await client.ReadResponseAsync()).Status);
        }

        Assert.Equal(0, returns.CurrentCount);
        Assert.Same(exchanges[1], exchanges[2]);
        Assert.Same(exchanges[1], exchanges[3]);

        // When the connection ends, its set goes back (disposing the client twice is harmless).
        await client.DisposeAsync();
        await WaitForFreePartsAsync(returns);
    }

    [Fact]
    public async Task TwoConnectionsInARequestAtOnceHaveTheirOwnParts()
    {
        var bothIn = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var exchanges = new List<HttpExchange>();
        var handler = new Handler(async exchange =>
        {
            lock (exchanges)
            {
                exchanges.Add(exchange);
                if (exchanges.Count == 2)
                {
                    bothIn.TrySetResult();
                }
            }

            var path = exchange.Request.Target.Path;
            await bothIn.Task.WaitAsync(TimeSpan.FromSeconds(30));
            // Both requests are in flight now: each still sees its own request and connection.
            await exchange.Response.SendAsync(200, "text/plain", System.Text.Encoding.ASCII.GetBytes($"{path} {exchange.Request.Target.Path} {exchange.RemoteEndPoint.Port}"));
        });
        var pool = new ExchangePartsPool(TestServer.ShortLimits());
        await using var server = TestServer.StartPlain(handler: handler, partsPool: pool);
        await using var first = await RawHttpClient.ConnectPlainAsync(server.Endpoint);
        await using var second = await RawHttpClient.ConnectPlainAsync(server.Endpoint);

        await first.SendAsync("GET /a HTTP/1.1\r\nHost: h\r\n\r\n");
        await second.SendAsync("GET /b HTTP/1.1\r\nHost: h\r\n\r\n");

        Assert.Equal($"/a /a {first.LocalEndPoint.Port}", (await first.ReadResponseAsync()).BodyText);
        Assert.Equal($"/b /b {second.LocalEndPoint.Port}", (await second.ReadResponseAsync()).BodyText);
        Assert.NotSame(exchanges[0], exchanges[1]);
    }

    [Fact]
    public void APooledSetKeepsNoConnectionAndThePoolIsBounded()
    {
        var pool = new ExchangePartsPool(new Http1Limits());
        var rented = Enumerable.Range(0, ExchangePartsPool.Capacity + 5).Select(_ => pool.Rent()).ToList();
        foreach (var parts in rented)
        {
            pool.Return(parts);
        }

        // The pool keeps Capacity of them: renting as many again gets exactly those back, then new ones.
        var again = Enumerable.Range(0, ExchangePartsPool.Capacity + 5).Select(_ => pool.Rent()).ToList();
        var reused = new HashSet<ExchangeParts>(rented, ReferenceEqualityComparer.Instance);
        Assert.Equal(ExchangePartsPool.Capacity, again.Count(reused.Contains));
        Assert.All(again, parts => Assert.False(parts.Parser.HasStarted));
    }

    private sealed class Handler(Func<HttpExchange, Task> answer) : IRequestHandler
    {
        public async ValueTask HandleAsync(HttpExchange exchange, CancellationToken stopping) => await answer(exchange);
    }
}
