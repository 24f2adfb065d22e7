using System.Diagnostics;
using System.Text;
using Gatehouse.Http1.Tests.Support;

namespace Gatehouse.Http1.Tests.Sockets;

/// <summary>The connection loop over real mutual-TLS sockets: keep-alive, pipelining, 100-continue, limits, timeouts.</summary>
public sealed class TlsConnectionTests(TlsFixture fixture) : IClassFixture<TlsFixture>
{
    [Fact]
    public async Task KeepsTheConnectionAliveForTwoRequests()
    {
        await using var client = await fixture.ConnectAsync();
        await client.SendAsync("POST /a HTTP/1.1\r\nHost: h\r\nContent-Length: 3\r\n\r\nabc");
        var first = await client.ReadResponseAsync();
        await client.SendAsync("GET /b HTTP/1.1\r\nHost: h\r\n\r\n");
        var second = await client.ReadResponseAsync();
        Assert.Equal(200, first.Status);
        Assert.Equal("3", first.BodyText);
        Assert.False(first.HasConnectionClose);
        Assert.Equal(200, second.Status);
        Assert.Equal("0", second.BodyText);
        Assert.True(await client.StaysSilentAsync(TimeSpan.FromMilliseconds(100)));
    }

    [Fact]
    public async Task AnswersThreePipelinedRequestsInOrder()
    {
        await using var client = await fixture.ConnectAsync();
        await client.SendAsync(
            "POST /1 HTTP/1.1\r\nHost: h\r\nContent-Length: 1\r\n\r\nx"
            + "POST /2 HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nxx\r\n0\r\n\r\n"
            + "POST /3 HTTP/1.1\r\nHost: h\r\nContent-Length: 3\r\nConnection: close\r\n\r\nxxx");
        var responses = await client.ReadUntilCloseAsync();
        Assert.Equal(["1", "2", "3"], responses.Select(r => r.BodyText));
        Assert.All(responses, r => Assert.Equal(200, r.Status));
        Assert.True(responses[^1].HasConnectionClose);
    }

    [Fact]
    public async Task ParsesARequestSentByteByByte()
    {
        await using var client = await fixture.ConnectAsync();
        await client.SendByteByByteAsync(Bytes.Of("PUT /slow/path?q=1 HTTP/1.1\r\nHost: h\r\nX-A: b\r\nContent-Length: 4\r\n\r\nbody"));
        var response = await client.ReadResponseAsync();
        Assert.Equal(200, response.Status);
        Assert.Equal("4", response.BodyText);
    }

    [Fact]
    public async Task SendsContinueBeforeTheBodyIsRead()
    {
        await using var client = await fixture.ConnectAsync();
        await client.SendAsync("PUT /up HTTP/1.1\r\nHost: h\r\nExpect: 100-continue\r\nContent-Length: 5\r\n\r\n");
        var interim = await client.ReadResponseAsync();
        Assert.Equal(100, interim.Status);
        Assert.Equal("HTTP/1.1", interim.Version);
        await client.SendAsync("hello");
        var final = await client.ReadResponseAsync();
        Assert.Equal(200, final.Status);
        Assert.Equal("5", final.BodyText);
    }

    [Fact]
    public async Task DecodesAChunkedBodyWithTrailers()
    {
        await using var client = await fixture.ConnectAsync();
        await client.SendAsync("POST /c HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n5;ext=1\r\nhello\r\n6\r\n world\r\n0\r\nX-Checksum: abc\r\nX-More: d\r\n\r\n");
        var response = await client.ReadResponseAsync();
        Assert.Equal(200, response.Status);
        Assert.Equal("11", response.BodyText);
        await client.SendAsync("GET / HTTP/1.1\r\nHost: h\r\n\r\n");
        Assert.Equal(200, (await client.ReadResponseAsync()).Status);
    }

    [Fact]
    public async Task AnswersAnOverlongRequestLineWith414AndCloses() =>
        await ExpectErrorAndCloseAsync("GET /" + new string('a', 9000) + " HTTP/1.1\r\nHost: h\r\n\r\n", 414);

    [Fact]
    public async Task AnswersAnOversizedHeaderBlockWith431AndCloses() =>
        await ExpectErrorAndCloseAsync("GET / HTTP/1.1\r\nHost: h\r\nX-Big: " + new string('b', 33 * 1024) + "\r\n\r\n", 431);

    [Fact]
    public async Task AnswersTooManyHeaderFieldsWith431AndCloses()
    {
        var head = new StringBuilder("GET / HTTP/1.1\r\nHost: h\r\n");
        for (var i = 0; i < 100; i++)
        {
            head.Append("X-F: v\r\n");
        }

        await ExpectErrorAndCloseAsync(head.Append("\r\n").ToString(), 431);
    }

    [Fact]
    public async Task AnswersAMalformedRequestWith400AndClosesEvenWithMoreRequestsBehind() =>
        await ExpectErrorAndCloseAsync("GET /a//b HTTP/1.1\r\nHost: h\r\n\r\nGET / HTTP/1.1\r\nHost: h\r\n\r\n", 400);

    [Fact]
    public async Task AnswersAnErrorAfterAGoodRequestOnTheSameConnection()
    {
        await using var client = await fixture.ConnectAsync();
        await client.SendAsync("GET / HTTP/1.1\r\nHost: h\r\n\r\nPOST / HTTP/1.1\r\nHost: h\r\nContent-Length: 1\r\nContent-Length: 1\r\n\r\nx");
        var responses = await client.ReadUntilCloseAsync();
        Assert.Equal([200, 400], responses.Select(r => r.Status));
        Assert.True(responses[1].HasConnectionClose);
        Assert.Equal("application/json", responses[1].Header("Content-Type"));
    }

    [Fact]
    public async Task AnswersAStalledHeaderWith408AndCloses()
    {
        await using var server = fixture.StartServer(TestServer.TimeoutLimits(header: TimeSpan.FromMilliseconds(300)));
        await using var client = await fixture.ConnectAsync(server);
        var clock = Stopwatch.StartNew();
        await client.SendAsync("GET /slow HTTP/1.1\r\nHost: h\r\nX-Half: val");
        var responses = await client.ReadUntilCloseAsync(TimeSpan.FromSeconds(8));
        Assert.Equal([408], responses.Select(r => r.Status));
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(6), clock.Elapsed.ToString()); // not the default 30 s
    }

    [Fact]
    public async Task AnswersAStalledRequestLineWith408AndCloses()
    {
        await using var server = fixture.StartServer(TestServer.TimeoutLimits(header: TimeSpan.FromMilliseconds(300)));
        await using var client = await fixture.ConnectAsync(server);
        await client.SendAsync("GET /sl");
        var responses = await client.ReadUntilCloseAsync(TimeSpan.FromSeconds(3));
        Assert.Equal([408], responses.Select(r => r.Status));
    }

    [Fact]
    public async Task KeepsTheHeaderDeadlineWhileBytesTrickleIn()
    {
        // Each header line arrives well inside the 400 ms deadline, and the trickle would go on
        // for 4 s: a deadline re-armed per line would never fire while we keep sending. The 408
        // must come while the trickle is still going, however slow the machine is.
        await using var server = fixture.StartServer(TestServer.TimeoutLimits(header: TimeSpan.FromMilliseconds(400)));
        await using var client = await fixture.ConnectAsync(server);
        using var stop = new CancellationTokenSource();
        var trickling = TrickleHeaderLinesAsync(client, lines: 40, TimeSpan.FromMilliseconds(100), stop.Token);

        var responses = await client.ReadUntilCloseAsync(TimeSpan.FromSeconds(10));

        await stop.CancelAsync();
        var sent = await trickling;
        Assert.Equal([408], responses.Select(r => r.Status));
        Assert.True(sent < 40, "the whole trickle was sent before the server gave up");
    }

    /// <summary>Sends header lines until told to stop or cut off; returns how many went out.</summary>
    private static async Task<int> TrickleHeaderLinesAsync(RawHttpClient client, int lines, TimeSpan pause, CancellationToken stop)
    {
        var sent = 0;
        try
        {
            await client.SendAsync("GET / HTTP/1.1\r\nHost: h\r\n");
            for (var line = 0; line < lines; line++)
            {
                await Task.Delay(pause, stop);
                await client.SendAsync($"X-{line}: {line}\r\n");
                sent++;
            }
        }
        catch (Exception ex) when (ex is IOException or OperationCanceledException)
        {
            // The server gave up on us (the point of the test), or the test stopped the trickle.
        }

        return sent;
    }

    [Fact]
    public async Task ClosesAnIdleKeptAliveConnectionSilently()
    {
        await using var server = fixture.StartServer(TestServer.TimeoutLimits(keepAlive: TimeSpan.FromMilliseconds(300)));
        await using var client = await fixture.ConnectAsync(server);
        await client.SendAsync("GET / HTTP/1.1\r\nHost: h\r\n\r\n");
        Assert.Equal(200, (await client.ReadResponseAsync()).Status);
        var clock = Stopwatch.StartNew();
        await client.ExpectCloseAsync(TimeSpan.FromSeconds(8));
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(6), clock.Elapsed.ToString()); // not the default 120 s
    }

    [Fact]
    public async Task SendsHeadersWithoutContentForHead()
    {
        await using var client = await fixture.ConnectAsync();
        await client.SendAsync("HEAD /x HTTP/1.1\r\nHost: h\r\n\r\nGET /x HTTP/1.1\r\nHost: h\r\n\r\n");
        var head = await client.ReadResponseAsync(headRequest: true);
        Assert.Equal(200, head.Status);
        Assert.Equal("1", head.Header("Content-Length"));
        Assert.Empty(head.Body);

        // Had the HEAD answer carried content, these bytes would not parse as the GET's answer.
        var get = await client.ReadResponseAsync();
        Assert.Equal(200, get.Status);
        Assert.Equal("0", get.BodyText);
    }

    [Fact]
    public async Task HonoursConnectionClose()
    {
        await using var client = await fixture.ConnectAsync();
        await client.SendAsync("GET / HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\nGET /ignored HTTP/1.1\r\nHost: h\r\n\r\n");
        var responses = await client.ReadUntilCloseAsync();
        var only = Assert.Single(responses);
        Assert.Equal(200, only.Status);
        Assert.True(only.HasConnectionClose);
    }

    [Fact]
    public async Task ClosesAfterAnHttp10Request()
    {
        await using var client = await fixture.ConnectAsync();
        await client.SendAsync("GET / HTTP/1.0\r\n\r\n");
        var responses = await client.ReadUntilCloseAsync();
        var only = Assert.Single(responses);
        Assert.Equal(200, only.Status);
        Assert.Equal("HTTP/1.0", only.Version);
        Assert.True(only.HasConnectionClose);
    }

    [Fact]
    public async Task KeepsAnHttp10ConnectionAliveWhenAsked()
    {
        await using var client = await fixture.ConnectAsync();
        await client.SendAsync("GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n");
        var first = await client.ReadResponseAsync();
        Assert.Equal("keep-alive", first.Header("Connection"));
        await client.SendAsync("GET / HTTP/1.0\r\n\r\n");
        Assert.Equal(200, (await client.ReadResponseAsync()).Status);
        await client.ExpectCloseAsync();
    }

    private async Task ExpectErrorAndCloseAsync(string request, int status)
    {
        await using var client = await fixture.ConnectAsync();
        await client.SendAsync(request);
        var responses = await client.ReadUntilCloseAsync();
        var only = Assert.Single(responses);
        Assert.Equal(status, only.Status);
        Assert.True(only.HasConnectionClose);
        Assert.StartsWith("{\"error\":", only.BodyText, StringComparison.Ordinal);
    }
}
