using System.Diagnostics;
using Gatehouse.WebSockets.Tests.Support;
using Xunit.Abstractions;

namespace Gatehouse.WebSockets.Tests;

/// <summary>The close frames the endpoint sends (issue 18 item 5): 1009 from a frame header alone, and the client's code echoed.</summary>
[Collection(WsCollection.Name)]
public sealed class CloseCodeTests(WsServerFixture fixture, ITestOutputHelper output)
{
    [Fact]
    public async Task AFrameHeaderDeclaringMoreThanTheLimitClosesWith1009AtOnce()
    {
        await using var client = await OpenAsync();
        // A masked binary frame declaring 100 MB (64-bit length), then no payload at all: before,
        // the endpoint waited for the payload until keep-alive gave up (about 60 s).
        byte[] header = [0x82, 0xFF, 0, 0, 0, 0, 0x06, 0x40, 0x00, 0x00, 0x37, 0xFA, 0x21, 0x3D];
        var clock = Stopwatch.StartNew();
        await client.SendAsync(header);
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        var frame = await client.ReadFrameAsync(cts.Token);
        output.WriteLine($"close {frame?.CloseCode} after {clock.Elapsed.TotalMilliseconds:F0} ms");
        Assert.NotNull(frame);
        Assert.Equal(8, frame.Opcode);
        Assert.Equal(1009, frame.CloseCode);
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(1), $"took {clock.Elapsed}");
        Assert.True(await client.ServerClosesAsync(TimeSpan.FromSeconds(5)));
    }

    [Fact]
    public async Task TheCloseReplyEchoesTheClientsCode()
    {
        await using var client = await OpenAsync();
        // Close 4001, masked with 37 fa 21 3d: RFC 6455 §5.5.1, the reply echoes the code.
        byte[] close = [0x88, 0x82, 0x37, 0xFA, 0x21, 0x3D, 0x0F ^ 0x37, 0xA1 ^ 0xFA];
        await client.SendAsync(close);
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        var frame = await client.ReadFrameAsync(cts.Token);
        Assert.NotNull(frame);
        Assert.Equal(8, frame.Opcode);
        Assert.Equal(4001, frame.CloseCode);
    }

    private async Task<RawWsClient> OpenAsync()
    {
        var client = await RawWsClient.ConnectAsync(fixture.V4, fixture.Pki.Client, fixture.Pki.Identity.Pin);
        await client.SendAsync(RawWsClient.UpgradeRequest("/echo"));
        Assert.StartsWith("HTTP/1.1 101", await client.ReadHeadAsync(TimeSpan.FromSeconds(10)));
        return client;
    }
}
