using System.Text;
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

    [Theory]
    [InlineData("X-Ok", "a\rb")]
    [InlineData("X-Ok", "a\nb")]
    [InlineData("X-Ok", "a\0b")]
    [InlineData("X-Ok", "a\u007fb")]
    [InlineData("X Bad", "v")]
    [InlineData("X:Bad", "v")]
    [InlineData("", "v")]
    [InlineData("X-\u00e9", "v")]
    public void FieldGivenAsBytesThatCouldSplitTheHeadIsRefused(string name, string value)
    {
        var headers = new ResponseHeaders();
        Assert.Throws<ArgumentException>(() => headers.Add(Encoding.Latin1.GetBytes(name), Encoding.Latin1.GetBytes(value)));
        Assert.Equal(0, headers.Count);
        Assert.Empty(headers);
    }

    [Fact]
    public void FieldsGivenAsBytesAreFoundRemovedAndListed()
    {
        var headers = new ResponseHeaders();
        headers.Add("X-Text", "t");
        headers.Add("set-cookie"u8, "a=1"u8);
        headers.Add("ETag"u8, Encoding.Latin1.GetBytes("\"caf\u00e9\""));
        headers.Add("Set-Cookie"u8, "b=2"u8);
        headers.Add("Content-Length"u8, "5"u8); // framing: the writer's alone, dropped
        headers.Add("DATE"u8, "yesterday"u8);

        Assert.Equal(4, headers.Count);
        Assert.Equal("\"caf\u00e9\"", headers.Get("etag"));
        Assert.Equal("a=1", headers.Get("Set-Cookie"));
        Assert.Null(headers.Get("Content-Length"));
        Assert.Equal(["X-Text: t", "set-cookie: a=1", "ETag: \"caf\u00e9\"", "Set-Cookie: b=2"], headers.Select(f => $"{f.Name}: {f.Value}"));

        Assert.True(headers.Remove("SET-COOKIE"));
        Assert.Equal(["X-Text: t", "ETag: \"caf\u00e9\""], headers.Select(f => $"{f.Name}: {f.Value}"));
        headers.Set("ETag", "\"new\"");
        Assert.Equal(["X-Text: t", "ETag: \"new\""], headers.Select(f => $"{f.Name}: {f.Value}"));
        Assert.False(headers.Remove("Set-Cookie"));
    }

    [Fact]
    public async Task FieldsGivenAsBytesLeaveAsTheyCameAfterTheTextFields()
    {
        var handler = new Handler(async exchange =>
        {
            var response = exchange.Response;
            response.Headers.Add("X-B"u8, Encoding.Latin1.GetBytes("caf\u00e9\tend"));
            response.Headers.Add("X-A", "text");
            for (var i = 0; i < 100; i++)
            {
                response.Headers.Add(Encoding.ASCII.GetBytes($"X-Line-{i}"), Encoding.ASCII.GetBytes(new string('v', i * 50)));
            }

            response.Headers.Add("Transfer-Encoding"u8, "gzip"u8); // dropped: framing is the writer's
            response.ContentLength = 2;
            await response.WriteAsync("ok"u8.ToArray());
            await response.CompleteAsync();
        });
        await using var server = TestServer.StartPlain(handler: handler);
        await using var client = await RawHttpClient.ConnectPlainAsync(server.Endpoint);

        for (var round = 0; round < 2; round++) // the second answer reuses the pooled response's lines
        {
            await client.SendAsync("GET / HTTP/1.1\r\nHost: h\r\n\r\n");
            var response = await client.ReadResponseAsync();
            var names = response.Headers.Select(h => h.Key).Where(k => k.StartsWith("X-", StringComparison.Ordinal)).ToList();
            Assert.Equal(["X-A", "X-B", .. Enumerable.Range(0, 100).Select(i => $"X-Line-{i}")], names);
            Assert.Equal("caf\u00e9\tend", response.Header("X-B"));
            Assert.Equal(new string('v', 99 * 50), response.Header("X-Line-99"));
            Assert.DoesNotContain(response.Headers, h => h.Key == "Transfer-Encoding");
            Assert.Equal("ok", response.BodyText);
        }
    }

    private sealed class Handler(Func<HttpExchange, Task> answer) : IRequestHandler
    {
        public async ValueTask HandleAsync(HttpExchange exchange, CancellationToken stopping) => await answer(exchange);
    }
}
