using Gatehouse.WebSockets.Tests.Support;

namespace Gatehouse.WebSockets.Tests;

/// <summary>The endpoint's answers on the wire: 101 with the right fields, and each refusal.</summary>
[Collection(WsCollection.Name)]
public sealed class HandshakeSocketTests(WsServerFixture fixture)
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(5);

    [Fact]
    public async Task AnswersSwitchingProtocolsWithTheAcceptValue()
    {
        var head = await ExchangeAsync(RawWsClient.UpgradeRequest("/echo"));
        Assert.StartsWith("HTTP/1.1 101 Switching Protocols\r\n", head, StringComparison.Ordinal);
        Assert.Contains("\r\nUpgrade: websocket", head, StringComparison.Ordinal);
        Assert.Contains("\r\nConnection: Upgrade", head, StringComparison.Ordinal);
        Assert.Contains("\r\nSec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=", head, StringComparison.Ordinal);
        Assert.DoesNotContain("Sec-WebSocket-Protocol", head, StringComparison.Ordinal);
    }

    [Fact]
    public async Task NamesTheChosenSubprotocol()
    {
        var head = await ExchangeAsync(RawWsClient.UpgradeRequest("/protocol", "Sec-WebSocket-Protocol: x, chat.v2, chat.v1"));
        Assert.Contains("\r\nSec-WebSocket-Protocol: chat.v2", head, StringComparison.Ordinal);
    }

    [Fact]
    public async Task RefusesPlainHttpWith426AndUpgrade()
    {
        var head = await ExchangeAsync("GET /echo HTTP/1.1\r\nHost: localhost\r\n\r\n");
        Assert.StartsWith("HTTP/1.1 426 ", head, StringComparison.Ordinal);
        Assert.Contains("\r\nUpgrade: websocket", head, StringComparison.Ordinal);
    }

    [Fact]
    public async Task RefusesVersion12With426AndVersion13()
    {
        var head = await ExchangeAsync(RawWsClient.UpgradeRequest("/echo").Replace("Version: 13", "Version: 12", StringComparison.Ordinal));
        Assert.StartsWith("HTTP/1.1 426 ", head, StringComparison.Ordinal);
        Assert.Contains("\r\nSec-WebSocket-Version: 13", head, StringComparison.Ordinal);
    }

    [Fact]
    public async Task RefusesABadKeyWith400()
    {
        var head = await ExchangeAsync(RawWsClient.UpgradeRequest("/echo").Replace("dGhlIHNhbXBsZSBub25jZQ==", "c2hvcnQ=", StringComparison.Ordinal));
        Assert.StartsWith("HTTP/1.1 400 ", head, StringComparison.Ordinal);
    }

    [Fact]
    public async Task RefusesAForeignOriginWith403()
    {
        var head = await ExchangeAsync(RawWsClient.UpgradeRequest("/origin", "Origin: https://evil.example"));
        Assert.StartsWith("HTTP/1.1 403 ", head, StringComparison.Ordinal);
    }

    private async Task<string> ExchangeAsync(string request)
    {
        await using var client = await RawWsClient.ConnectAsync(fixture.V4, fixture.Pki.Client, fixture.Pki.Identity.Pin);
        await client.SendAsync(request);
        return await client.ReadHeadAsync(Wait);
    }
}
