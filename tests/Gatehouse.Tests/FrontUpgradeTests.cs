using System.Net;
using System.Security.Cryptography.X509Certificates;
using Gatehouse.Wire;

namespace Gatehouse.Tests;

/// <summary>
/// Issue 17 item 4: only a valid WebSocket handshake may open a tunnel. The backend here answers
/// 101 to anything that reaches it with an Upgrade field (as a careless app or an h2c server
/// would), so what it recorded shows what the gateway forwarded.
/// </summary>
public sealed class FrontUpgradeTests
{
    private const string Key = "dGhlIHNhbXBsZSBub25jZQ==";

    [Fact]
    public async Task H2cUpgradeIsForwardedAsAPlainRequest()
    {
        await using var backend = UpgradingBackend();
        await using var gateway = await StartAsync(backend, webSockets: true);
        await using var client = await ConnectAsync(gateway);

        var head = await client.SendRawAsync("GET /up/x HTTP/1.1\r\nHost: localhost\r\nConnection: Upgrade, HTTP2-Settings\r\nUpgrade: h2c\r\nHTTP2-Settings: AAMAAABkAARAAAAAAAIAAAAA\r\n\r\n");
        Assert.StartsWith("HTTP/1.1 200", head);
        Assert.Equal("plain", await client.ReadBodyAsync(5));
        AssertNoUpgradeForwarded(backend);
        Assert.Empty(backend.Values("HTTP2-Settings"));
    }

    [Theory]
    [InlineData("POST", "Sec-WebSocket-Key: " + Key + "\r\nSec-WebSocket-Version: 13\r\nContent-Length: 0\r\n")]
    [InlineData("GET", "Sec-WebSocket-Version: 13\r\n")]
    [InlineData("GET", "Sec-WebSocket-Key: c2hvcnQ=\r\nSec-WebSocket-Version: 13\r\n")]
    [InlineData("GET", "Sec-WebSocket-Key: " + Key + "\r\nSec-WebSocket-Version: 8\r\n")]
    public async Task AnInvalidWebSocketUpgradeGetsNoTunnel(string method, string fields)
    {
        await using var backend = UpgradingBackend();
        await using var gateway = await StartAsync(backend, webSockets: true);
        await using var client = await ConnectAsync(gateway);

        var head = await client.SendRawAsync($"{method} /up/x HTTP/1.1\r\nHost: localhost\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n{fields}\r\n");
        Assert.StartsWith("HTTP/1.1 200", head);
        Assert.Equal("plain", await client.ReadBodyAsync(5));
        AssertNoUpgradeForwarded(backend);
    }

    [Fact]
    public async Task A101ToARequestThatAskedForNoWebSocketIsA502AndTheUpstreamConnectionIsDiscarded()
    {
        await using var backend = UpgradingBackend();
        await using var gateway = await StartAsync(backend, webSockets: true);
        await using var client = await ConnectAsync(gateway);

        // An h2c request to a backend that switches whatever it is asked.
        var head = await client.SendRawAsync("GET /up/always-101 HTTP/1.1\r\nHost: localhost\r\nConnection: Upgrade, HTTP2-Settings\r\nUpgrade: h2c\r\nHTTP2-Settings: AAMAAABkAARAAAAAAAIAAAAA\r\n\r\n");
        Assert.StartsWith("HTTP/1.1 502", head);
        Assert.DoesNotContain("Upgrade:", head, StringComparison.OrdinalIgnoreCase);
        AssertNoUpgradeForwarded(backend);

        // The switched connection is not HTTP/1.1 any more: the next request goes on a new one.
        var length = ContentLength(head);
        _ = await client.ReadBodyAsync(length);
        Assert.StartsWith("HTTP/1.1 200", await client.SendRawAsync("GET /up/next HTTP/1.1\r\nHost: localhost\r\n\r\n"));
        Assert.Equal("plain", await client.ReadBodyAsync(5));
        Assert.Equal(2, backend.Accepted);
    }

    [Fact]
    public async Task AValidWebSocketUpgradeStillTunnels()
    {
        await using var backend = UpgradingBackend();
        await using var gateway = await StartAsync(backend, webSockets: true);
        await using var client = await ConnectAsync(gateway);

        var head = await client.SendRawAsync($"GET /up/chat HTTP/1.1\r\nHost: localhost\r\nConnection: keep-alive, Upgrade\r\nUpgrade: WebSocket\r\nSec-WebSocket-Key: {Key}\r\nSec-WebSocket-Version: 13\r\n\r\n");
        Assert.StartsWith("HTTP/1.1 101", head);
        Assert.Equal(["websocket"], backend.Values("Upgrade"));
        Assert.Equal(["upgrade"], backend.Values("Connection"));
        Assert.Equal([Key], backend.Values("Sec-WebSocket-Key"));

        // Bytes now pass both ways untouched: the backend reads "ping" as a head and answers "pong".
        await client.WriteRawAsync("ping\r\n\r\n");
        Assert.Equal("pong", await client.ReadBodyAsync(4));
    }

    [Fact]
    public async Task WebSocketsAreOffUnlessTheRouteSaysSo()
    {
        await using var backend = UpgradingBackend();
        await using var gateway = await StartAsync(backend, webSockets: null);
        await using var client = await ConnectAsync(gateway);

        var head = await client.SendRawAsync($"GET /up/chat HTTP/1.1\r\nHost: localhost\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Key: {Key}\r\nSec-WebSocket-Version: 13\r\n\r\n");
        Assert.StartsWith("HTTP/1.1 200", head);
        Assert.Equal("plain", await client.ReadBodyAsync(5));
        AssertNoUpgradeForwarded(backend);
    }

    /// <summary>101 to anything with an Upgrade field (and always on /always-101); tunnelled "ping" gets "pong"; otherwise 200 "plain".</summary>
    private static RecordingBackend UpgradingBackend() => new(head =>
        head == "ping" ? "pong"
        : head.StartsWith("GET /always-101 ", StringComparison.Ordinal) || head.Contains("\r\nUpgrade:", StringComparison.OrdinalIgnoreCase)
            ? "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n"
            : "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nplain");

    private static void AssertNoUpgradeForwarded(RecordingBackend backend)
    {
        Assert.Empty(backend.Values("Upgrade"));
        Assert.DoesNotContain(backend.Values("Connection"), value => value.Contains("upgrade", StringComparison.OrdinalIgnoreCase));
    }

    private static int ContentLength(string head) => int.Parse(
        head.Split("\r\n").First(l => l.StartsWith("Content-Length:", StringComparison.OrdinalIgnoreCase))["Content-Length:".Length..].Trim(),
        System.Globalization.CultureInfo.InvariantCulture);

    private static Task<InProcessGateway> StartAsync(RecordingBackend backend, bool? webSockets) => InProcessGateway.StartAsync(configJson: FrontConfig.Json(
        $$"""[ { "kind": "proxy", "name": "up", "prefix": "/up/", "backend": "http://127.0.0.1:{{backend.Port}}"{{(webSockets is { } on ? $", \"webSockets\": {(on ? "true" : "false")}" : "")}} } ]""",
        """[ { "principals": [ "ca:user" ], "proxy": [ "up" ] } ]"""));

    /// <summary>A raw TLS connection to the gateway's TLS listener, presenting a certificate of its user CA.</summary>
    private static async Task<KeepAliveClient> ConnectAsync(InProcessGateway gateway)
    {
        using var certificate = CertificateFactory.IssueClient(gateway.Ca, "alice-laptop");
        return await KeepAliveClient.OpenAsync(new IPEndPoint(IPAddress.Loopback, gateway.PortOf(0)), certificate);
    }
}
