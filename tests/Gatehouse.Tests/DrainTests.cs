using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.RegularExpressions;
using Xunit.Abstractions;

namespace Gatehouse.Tests;

/// <summary>
/// SIGTERM drains (issue 18 item 3), on the real executable: requests in flight finish and are
/// answered with <c>Connection: close</c>, feeds end with a last chunk, WebSocket tunnels get 1001,
/// idle keep-alive connections close at once, and past shutdownGrace the rest are aborted; exit 0.
/// Clients speak plain HTTP to the loopback listener, so the tests see exactly the bytes framed.
/// </summary>
public sealed partial class DrainTests(ITestOutputHelper output)
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(15);

    [Fact]
    public async Task SlowProxiedAnswerStartedBeforeSigtermCompletesAndItsAccessLineHasUpstreamTimes()
    {
        await using var drain = await DrainGateway.StartAsync();
        using var tcp = await drain.SendAsync("GET /app/slow HTTP/1.1\r\nHost: localhost\r\n\r\n");
        await drain.Backend.Started.WaitAsync(Wait);
        var clock = drain.SigTerm();

        var reader = new RawHttpReader(tcp.GetStream());
        using var cts = new CancellationTokenSource(Wait);
        var head = await reader.ReadHeadAsync(cts.Token);
        Assert.NotNull(head);
        Assert.StartsWith("HTTP/1.1 200", head);
        Assert.Contains("Connection: close", head); // answered during the drain
        Assert.Equal("hello", Encoding.ASCII.GetString(await reader.ReadBytesAsync(5, cts.Token) ?? []));
        var answered = clock.Elapsed;
        Assert.True(await reader.ClosedAsync(cts.Token));

        Assert.Equal(0, await drain.Process.WaitForExitAsync(Wait));
        output.WriteLine($"answered {answered.TotalMilliseconds:F0} ms after SIGTERM, exit 0 after {clock.Elapsed.TotalMilliseconds:F0} ms");
        Assert.True(answered > DrainBackend.SlowDelay - TimeSpan.FromMilliseconds(500), $"answered after {answered}");

        var line = Assert.Single(drain.Process.StandardError.Split('\n'), l => l.Contains("GET /app/slow 200", StringComparison.Ordinal));
        var firstByte = double.Parse(UpstreamFirstByte().Match(line).Groups[1].Value, CultureInfo.InvariantCulture);
        var total = double.Parse(UpstreamTotal().Match(line).Groups[1].Value, CultureInfo.InvariantCulture);
        output.WriteLine($"access line: upstreamFirstByteMs={firstByte} upstreamTotalMs={total}");
        Assert.InRange(firstByte, 1500, 10_000);
        Assert.True(total >= firstByte);
    }

    [Fact]
    public async Task SlowStreamStartedBeforeSigtermArrivesWhole()
    {
        await using var drain = await DrainGateway.StartAsync();
        using var tcp = await drain.SendAsync("GET /app/stream HTTP/1.1\r\nHost: localhost\r\n\r\n");
        var reader = new RawHttpReader(tcp.GetStream());
        using var cts = new CancellationTokenSource(Wait);
        Assert.StartsWith("HTTP/1.1 200", await reader.ReadHeadAsync(cts.Token));
        var body = new StringBuilder(await reader.ReadChunkAsync(cts.Token));
        var clock = drain.SigTerm();
        while (await reader.ReadChunkAsync(cts.Token) is { Length: > 0 } chunk)
        {
            body.Append(chunk);
        }

        var ended = clock.Elapsed;
        Assert.True(await reader.ClosedAsync(cts.Token));
        Assert.Equal(0, await drain.Process.WaitForExitAsync(Wait));
        output.WriteLine($"{body.Length} bytes, last chunk {ended.TotalMilliseconds:F0} ms after SIGTERM, exit 0 after {clock.Elapsed.TotalMilliseconds:F0} ms");
        Assert.Equal(DrainBackend.StreamBytes, body.Length); // before: cut at 9 of 30
    }

    [Fact]
    public async Task ContinuousFeedEndsWithALastChunkSoonAfterSigterm()
    {
        await using var drain = await DrainGateway.StartAsync();
        using var tcp = await drain.SendAsync("GET /app/feed HTTP/1.1\r\nHost: localhost\r\n\r\n");
        var reader = new RawHttpReader(tcp.GetStream());
        using var cts = new CancellationTokenSource(Wait);
        Assert.StartsWith("HTTP/1.1 200", await reader.ReadHeadAsync(cts.Token));
        Assert.StartsWith("data: 0", await reader.ReadChunkAsync(cts.Token));
        var clock = drain.SigTerm();
        string? chunk;
        while ((chunk = await reader.ReadChunkAsync(cts.Token)) is { Length: > 0 })
        {
        }

        var ended = clock.Elapsed;
        Assert.Equal(string.Empty, chunk); // the last chunk, not a cut connection
        Assert.True(await reader.ClosedAsync(cts.Token));
        Assert.Equal(0, await drain.Process.WaitForExitAsync(Wait));
        output.WriteLine($"feed ended {ended.TotalMilliseconds:F0} ms after SIGTERM, exit 0 after {clock.Elapsed.TotalMilliseconds:F0} ms (grace 10 s)");
        Assert.True(ended < TimeSpan.FromSeconds(2), $"feed ended after {ended}");
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(5), $"exited after {clock.Elapsed}");
    }

    [Fact]
    public async Task WebSocketTunnelGetsCloseGoingAway()
    {
        await using var drain = await DrainGateway.StartAsync();
        using var tcp = await drain.SendAsync(
            "GET /app/ws HTTP/1.1\r\nHost: localhost\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
            "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n");
        var reader = new RawHttpReader(tcp.GetStream());
        using var cts = new CancellationTokenSource(Wait);
        Assert.StartsWith("HTTP/1.1 101", await reader.ReadHeadAsync(cts.Token));
        Assert.Equal([0x81, 0x02, (byte)'h', (byte)'i'], await reader.ReadBytesAsync(4, cts.Token));
        var clock = drain.SigTerm();
        byte[]? frame;
        while ((frame = await reader.ReadBytesAsync(2, cts.Token)) is [0x81, 0x02])
        {
            Assert.Equal("hi"u8.ToArray(), await reader.ReadBytesAsync(2, cts.Token));
        }

        var closed = clock.Elapsed;
        Assert.Equal([0x88, 0x02], frame);
        Assert.Equal([0x03, 0xE9], await reader.ReadBytesAsync(2, cts.Token)); // 1001 going away
        Assert.True(await reader.ClosedAsync(cts.Token));
        Assert.Equal(0, await drain.Process.WaitForExitAsync(Wait));
        output.WriteLine($"close 1001 {closed.TotalMilliseconds:F0} ms after SIGTERM, exit 0 after {clock.Elapsed.TotalMilliseconds:F0} ms");
        Assert.True(closed < TimeSpan.FromSeconds(2), $"closed after {closed}");
    }

    [Fact]
    public async Task IdleKeepAliveConnectionClosesAtOnce()
    {
        await using var drain = await DrainGateway.StartAsync();
        using var tcp = await drain.SendAsync("GET /app/quick HTTP/1.1\r\nHost: localhost\r\n\r\n");
        var reader = new RawHttpReader(tcp.GetStream());
        using var cts = new CancellationTokenSource(Wait);
        var head = await reader.ReadHeadAsync(cts.Token);
        Assert.DoesNotContain("Connection: close", head);
        Assert.Equal("ok"u8.ToArray(), await reader.ReadBytesAsync(2, cts.Token));

        var clock = drain.SigTerm();
        Assert.True(await reader.ClosedAsync(cts.Token));
        var closed = clock.Elapsed;
        Assert.Equal(0, await drain.Process.WaitForExitAsync(Wait));
        output.WriteLine($"idle connection closed {closed.TotalMilliseconds:F0} ms after SIGTERM, exit 0 after {clock.Elapsed.TotalMilliseconds:F0} ms");
        Assert.True(closed < TimeSpan.FromSeconds(1), $"closed after {closed}");
    }

    [Fact]
    public async Task PastTheGraceARequestStillInFlightIsAbortedAndTheProcessExitsZero()
    {
        await using var drain = await DrainGateway.StartAsync(graceSeconds: 1);
        using var tcp = await drain.SendAsync("GET /app/hang HTTP/1.1\r\nHost: localhost\r\n\r\n");
        await drain.Backend.Started.WaitAsync(Wait);
        var clock = drain.SigTerm();
        var reader = new RawHttpReader(tcp.GetStream());
        using var cts = new CancellationTokenSource(Wait);
        Assert.Null(await reader.ReadHeadAsync(cts.Token).ContinueWith(t => t.IsCompletedSuccessfully ? t.Result : null, TaskScheduler.Default));
        var closed = clock.Elapsed;
        Assert.Equal(0, await drain.Process.WaitForExitAsync(Wait));
        output.WriteLine($"aborted {closed.TotalMilliseconds:F0} ms after SIGTERM (grace 1 s), exit 0 after {clock.Elapsed.TotalMilliseconds:F0} ms");
        Assert.InRange(closed, TimeSpan.FromMilliseconds(900), TimeSpan.FromSeconds(5));
        Assert.Contains("shutdown grace", drain.Process.StandardError, StringComparison.OrdinalIgnoreCase);
    }

    [GeneratedRegex(@"upstreamFirstByteMs=(\d+(?:\.\d+)?)")]
    private static partial Regex UpstreamFirstByte();

    [GeneratedRegex(@"upstreamTotalMs=(\d+(?:\.\d+)?)")]
    private static partial Regex UpstreamTotal();
}
