using System.Net.Security;
using Gatehouse.Http1.Tests.Support;
using Gatehouse.Wire.Tuning;

namespace Gatehouse.Http1.Tests.Sockets;

/// <summary>
/// OpenSSL's memory BIOs keep the size of the biggest TLS record they carried. A keep-alive
/// connection gives those buffers back before it waits idle for its next request (issue 9: ~17 KiB
/// or more per idle connection after a large answer; issue 22: ~1 KiB after a small one).
/// Each test's second request looks at the BIOs as the first one left them.
/// </summary>
public sealed class IdleTlsBufferTests(TlsFixture fixture) : IClassFixture<TlsFixture>
{
    [Fact]
    public async Task AfterALargeAnswerTheIdleConnectionsBuffersAreGivenBack()
    {
        var (big, _) = await BioBytesBeforeSecondRequestAsync(firstAnswerBytes: 200_000);
        if (!OperatingSystem.IsLinux())
        {
            return; // no OpenSSL BIOs to look at
        }

        Assert.InRange(big.Write, 0, 1024);
        Assert.InRange(big.Read, 0, 1024);
    }

    [Fact]
    public async Task AfterASmallAnswerTheIdleConnectionsBuffersAreGivenBackToo()
    {
        var (afterSmall, afterTrimmed) = await BioBytesBeforeSecondRequestAsync(firstAnswerBytes: 300);
        if (!OperatingSystem.IsLinux())
        {
            return;
        }

        // Nothing written yet for the request being served: the first answer's room was given back,
        // and so was the second's before the third request.
        Assert.Equal(0, afterSmall.Write);
        Assert.Equal(0, afterTrimmed.Write);
        Assert.InRange(afterSmall.Read, 1, 1024); // the request being served
    }

    /// <summary>
    /// Serves /first with <paramref name="firstAnswerBytes"/> of body, then /second, whose handler reads the
    /// BIO sizes as the idle wait in between left them, then /third, which reads them again (and shows the
    /// connection still carries answers after a trim).
    /// </summary>
    private async Task<((long Read, long Write) Second, (long Read, long Write) Third)> BioBytesBeforeSecondRequestAsync(int firstAnswerBytes)
    {
        var sizes = new List<(long Read, long Write)>();
        var handler = new Handler(async exchange =>
        {
            if (exchange.Request.Target.Path != "/first")
            {
                var inspected = OpenSslAccess.Inspect((SslStream)exchange.Connection.Stream);
                sizes.Add(inspected is { } i ? (i.ReadBioBytes, i.WriteBioBytes) : (-1, -1));
            }

            var body = new byte[exchange.Request.Target.Path == "/first" ? firstAnswerBytes : 10];
            Random.Shared.NextBytes(body);
            await exchange.Response.SendAsync(200, "application/octet-stream", body);
        });
        await using var server = fixture.StartServer(TestServer.ShortLimits(), handler);
        await using var client = await fixture.ConnectAsync(server);

        await client.SendAsync("GET /first HTTP/1.1\r\nHost: h\r\n\r\n");
        Assert.Equal(firstAnswerBytes, (await client.ReadResponseAsync()).Body.Length);
        await client.SendAsync("GET /second HTTP/1.1\r\nHost: h\r\n\r\n");
        Assert.Equal(10, (await client.ReadResponseAsync()).Body.Length);
        await client.SendAsync("GET /third HTTP/1.1\r\nHost: h\r\n\r\n");
        Assert.Equal(10, (await client.ReadResponseAsync()).Body.Length);
        return (sizes[0], sizes[1]);
    }

    private sealed class Handler(Func<HttpExchange, Task> answer) : IRequestHandler
    {
        public async ValueTask HandleAsync(HttpExchange exchange, CancellationToken stopping) => await answer(exchange);
    }
}
