using System.Text;

namespace Gatehouse.Proxy.Tests;

/// <summary>Upgrade pass-through in the forwarder (issue 5): the 101 is relayed and bytes flow both ways until either side closes.</summary>
public sealed class TunnelTests
{
    private const string UpgradeRequest =
        "GET /app/chat HTTP/1.1\r\nHost: gw\r\nUpgrade: websocket\r\nConnection: keep-alive, Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n";

    private const string SwitchingProtocols =
        "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\r\n";

    [Fact]
    public async Task UpgradeIsForwardedAndBytesFlowBothWaysUntilTheClientCloses()
    {
        var upstreamSawClose = new TaskCompletionSource<bool>();
        string? head = null;
        await using var upstream = new FakeUpstream(async (connection, _) =>
        {
            head = await connection.ReadHeadAsync();
            await connection.WriteAsync(SwitchingProtocols + "EARLY"); // bytes right after the 101 must not be lost
            var ping = await connection.ReadExactlyAsync(4);
            await connection.WriteAsync(Encoding.ASCII.GetString(ping).ToUpperInvariant());
            upstreamSawClose.SetResult(await connection.WaitForCloseAsync(TimeSpan.FromSeconds(10)));
        });
        await using var gateway = new Gateway([upstream.Uri], configure: plan => plan.AllowUpgrade = true);
        using var client = await gateway.ConnectAsync();
        await client.SendAsync(UpgradeRequest);

        var (status, headers, _) = await client.ReadHeadAsync();
        Assert.Equal(101, status);
        Assert.Equal("websocket", headers["upgrade"]);
        Assert.Equal("Upgrade", headers["connection"]);
        Assert.Equal("s3pPLMBiTxaQ9kYGzzhZRbK+xOo=", headers["sec-websocket-accept"]);
        Assert.Equal("EARLY", Encoding.ASCII.GetString(await client.ReadExactlyAsync(5)));
        await client.SendAsync("ping");
        Assert.Equal("PING", Encoding.ASCII.GetString(await client.ReadExactlyAsync(4)));

        Assert.Contains("Upgrade: websocket\r\n", head);
        Assert.Contains("Connection: upgrade\r\n", head);
        Assert.Contains("Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n", head);

        client.Dispose();
        Assert.True(await upstreamSawClose.Task.WaitAsync(TimeSpan.FromSeconds(10)));
    }

    [Fact]
    public async Task UpstreamClosingTheTunnelClosesTheClient()
    {
        await using var upstream = new FakeUpstream(async (connection, _) =>
        {
            await connection.ReadHeadAsync();
            await connection.WriteAsync(SwitchingProtocols + "bye");
            connection.Dispose();
        });
        await using var gateway = new Gateway([upstream.Uri], configure: plan => plan.AllowUpgrade = true);
        using var client = await gateway.ConnectAsync();
        await client.SendAsync(UpgradeRequest);
        Assert.Equal(101, (await client.ReadHeadAsync()).Status);
        Assert.Equal("bye", await client.ReadToCloseAsync(TimeSpan.FromSeconds(10)));
    }

    [Fact]
    public async Task WithoutAllowUpgradeTheUpgradeHeadersStayHopByHop()
    {
        string? head = null;
        await using var upstream = new FakeUpstream(async (connection, _) =>
        {
            head = await connection.ReadHeadAsync();
            await connection.WriteAsync("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok");
        });
        await using var gateway = new Gateway([upstream.Uri]);
        using var client = await gateway.ConnectAsync();
        await client.SendAsync(UpgradeRequest);
        var (status, _, body) = await client.ReadResponseAsync();
        Assert.Equal(200, status);
        Assert.Equal("ok", body);
        Assert.DoesNotContain("Upgrade:", head);
    }

    [Fact]
    public async Task AnUnaskedFor101IsABadGateway()
    {
        await using var upstream = new FakeUpstream(async (connection, _) =>
        {
            await connection.ReadHeadAsync();
            await connection.WriteAsync(SwitchingProtocols);
        });
        await using var gateway = new Gateway([upstream.Uri]);
        using var client = await gateway.ConnectAsync();
        await client.SendAsync("GET /app/x HTTP/1.1\r\nHost: gw\r\n\r\n");
        Assert.Equal(502, (await client.ReadResponseAsync()).Status);
    }
}
