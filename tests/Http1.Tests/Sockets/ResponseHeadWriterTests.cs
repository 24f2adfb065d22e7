using Gatehouse.Http1.Tests.Support;

namespace Gatehouse.Http1.Tests.Sockets;

/// <summary>
/// The response head is written into one span sized beforehand (issue 22): every field, long or
/// many, must still leave whole and in order, and the writer's guard against response splitting
/// must refuse what it refused before the guard was vectorized.
/// </summary>
public sealed class ResponseHeadWriterTests
{
    [Fact]
    public async Task ManyAndLongFieldsLeaveWholeAndInOrder()
    {
        var longValue = new string('v', 20_000) + "\u00e9\tend"; // obs-text and HTAB are field-vchar / HTAB
        var handler = new Handler(async exchange =>
        {
            var response = exchange.Response;
            response.StatusCode = 299; // no reason phrase of its own
            for (var i = 0; i < 300; i++)
            {
                response.Headers.Add($"X-Field-{i}", $"value {i}");
            }

            response.Headers.Add("X-Long", longValue);
            response.Headers.Add("Content-Length", "999"); // framing is the writer's: dropped
            response.ContentLength = 2;
            await response.WriteAsync("ok"u8.ToArray());
            await response.CompleteAsync();
        });
        await using var server = TestServer.StartPlain(handler: handler);
        await using var client = await RawHttpClient.ConnectPlainAsync(server.Endpoint);

        await client.SendAsync("GET / HTTP/1.1\r\nHost: h\r\n\r\n");
        var response = await client.ReadResponseAsync();

        Assert.Equal(299, response.Status);
        var fields = response.Headers.Where(h => h.Key.StartsWith("X-Field-", StringComparison.Ordinal)).ToList();
        Assert.Equal(300, fields.Count);
        for (var i = 0; i < 300; i++)
        {
            Assert.Equal($"X-Field-{i}", fields[i].Key);
            Assert.Equal($"value {i}", fields[i].Value);
        }

        Assert.Equal(longValue, response.Header("X-Long"));
        Assert.Equal("2", Assert.Single(response.Headers, h => h.Key == "Content-Length").Value);
        Assert.Equal("ok", response.BodyText);
    }

    [Theory]
    [InlineData("X-Ok", "a\rb")]
    [InlineData("X-Ok", "a\nb")]
    [InlineData("X-Ok", "a\0b")]
    [InlineData("X-Ok", "a\u007fb")]
    [InlineData("X-Ok", "a\u0100b")]
    [InlineData("X Bad", "v")]
    [InlineData("X:Bad", "v")]
    [InlineData("", "v")]
    [InlineData("X-\u00e9", "v")]
    public void FieldThatCouldSplitOrCorruptTheHeadIsRefused(string name, string value)
    {
        var headers = new ResponseHeaders();
        Assert.Throws<ArgumentException>(() => headers.Add(name, value));
        Assert.Equal(0, headers.Count);
    }

    [Theory]
    [InlineData("X-Ok", "")]
    [InlineData("X-Ok", "tab\tand space")]
    [InlineData("X-Ok", "caf\u00e9 \u00ff")]
    [InlineData("!#$%&'*+-.^_`|~09azAZ", "v")]
    public void FieldTheGrammarAllowsIsKept(string name, string value)
    {
        var headers = new ResponseHeaders();
        headers.Add(name, value);
        Assert.Equal(value, headers.Get(name));
    }

    private sealed class Handler(Func<HttpExchange, Task> answer) : IRequestHandler
    {
        public async ValueTask HandleAsync(HttpExchange exchange, CancellationToken stopping) => await answer(exchange);
    }
}
