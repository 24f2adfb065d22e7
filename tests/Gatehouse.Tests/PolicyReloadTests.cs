using System.Diagnostics;
using System.Net;
using System.Net.Http;
using System.Net.WebSockets;
using System.Security.Cryptography.X509Certificates;
using System.Text.Json;
using Gatehouse.Config;
using Gatehouse.Hosting;
using Gatehouse.Http1.WebSockets;
using Gatehouse.Observability;
using Gatehouse.Routing;
using Gatehouse.Wire;
using Xunit.Abstractions;

namespace Gatehouse.Tests;

/// <summary>
/// Hot reload of routes and rules (issue 7), in-process against a real pouchdb-server: a reload
/// changes what new requests may do, cuts off a principal the new rules leave with nothing, and
/// leaves the live tunnels and feeds of everyone else alone. Trust and certificate reloads are in
/// <see cref="ReloadTests"/>.
/// </summary>
public sealed class PolicyReloadTests(ITestOutputHelper output) : IAsyncLifetime
{
    private const string DevicePassword = "device-secret-5d1e";
    private const string PeerPassword = "peer-secret-a2c4";
    private const string AllNovacut = "\"novacut-0-*\"";
    private const string LaptopFeed = "/couch/dmedia-0/_changes?feed=continuous&since=now&heartbeat=1000";

    private PouchDbServer _couch = null!;
    private X509Certificate2 _peer = null!;

    public async Task InitializeAsync()
    {
        _couch = await PouchDbServer.StartAsync();
        await _couch.CreateUserAsync("device", DevicePassword);
        await _couch.CreateUserAsync("peer", PeerPassword);
        await _couch.CreateDatabaseAsync("dmedia-0", "device");
        await _couch.CreateDatabaseAsync("novacut-0-alpha", "device", "peer");
        await _couch.CreateDatabaseAsync("novacut-0-beta", "device", "peer");
        _peer = CertificateFactory.CreateSelfSignedClient("peer-laptop");
    }

    public async Task DisposeAsync()
    {
        await _couch.DisposeAsync();
        _peer.Dispose();
    }

    [Fact]
    public async Task ALostGrantIsRefusedAndAPrincipalLeftWithNothingIsCutOffWhileAnothersTunnelAndFeedLiveThroughTenReloads()
    {
        await using var gateway = await StartAsync();
        var endpoint = new IPEndPoint(IPAddress.Loopback, gateway.Port);
        using var laptop = CertificateFactory.IssueClient(gateway.Ca, "alice-laptop");

        // The laptop (ca:user): a WebSocket tunnel and a continuous _changes feed, both live throughout.
        using var tunnel = await GatehouseWebSocket.ConnectAsync(new Uri($"wss://127.0.0.1:{gateway.Port}/feed/"), gateway.Server.Pin, laptop);
        await using var laptopFeed = await KeepAliveClient.OpenAsync(endpoint, laptop);
        Assert.Equal(200, await laptopFeed.StartStreamAsync(LaptopFeed));

        // The peer (pinned): an idle keep-alive connection and a live feed of its own.
        await using var peerIdle = await KeepAliveClient.OpenAsync(endpoint, _peer);
        Assert.Equal(200, await peerIdle.GetStatusAsync("/couch/novacut-0-alpha"));
        await using var peerFeed = await KeepAliveClient.OpenAsync(endpoint, _peer);
        Assert.Equal(200, await peerFeed.StartStreamAsync("/couch/novacut-0-alpha/_changes?feed=continuous&since=now&heartbeat=1000"));

        // Reload 1: the peer loses novacut-0-alpha but keeps novacut-0-beta. Its feed on alpha lived by
        // that grant and closes within a second (issue 17); its idle connection stays, and its next
        // request for alpha is refused on it.
        var alphaFeedClosed = peerFeed.WaitClosedAsync();
        var watch = Stopwatch.StartNew();
        var first = await ReloadAsync(gateway, Config(peerDatabases: "\"novacut-0-beta\""));
        await alphaFeedClosed.WaitAsync(TimeSpan.FromSeconds(10));
        output.WriteLine($"the peer's alpha feed closed {watch.Elapsed.TotalMilliseconds:F0} ms after the reload began");
        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(1), $"the alpha feed closed {watch.Elapsed} after the reload began");
        Assert.Equal(1, first.RevokedConnections);
        Assert.Equal(403, await peerIdle.GetStatusAsync("/couch/novacut-0-alpha"));
        Assert.Equal(200, await peerIdle.GetStatusAsync("/couch/novacut-0-beta"));
        await AssertEchoesAsync(tunnel, "after reload 1");

        // Reload 2: no rule names the peer any more. Its idle connection and its beta feed close within a second.
        await using var betaFeed = await KeepAliveClient.OpenAsync(endpoint, _peer);
        Assert.Equal(200, await betaFeed.StartStreamAsync("/couch/novacut-0-beta/_changes?feed=continuous&since=now&heartbeat=1000"));
        var peerIdleClosed = peerIdle.WaitClosedAsync();
        var peerFeedClosed = betaFeed.WaitClosedAsync();
        var stopwatch = Stopwatch.StartNew();
        var second = await ReloadAsync(gateway, Config(peerDatabases: null));
        await Task.WhenAll(peerIdleClosed, peerFeedClosed).WaitAsync(TimeSpan.FromSeconds(10));
        var elapsed = stopwatch.Elapsed;
        output.WriteLine($"the peer's idle connection and feed closed {elapsed.TotalMilliseconds:F0} ms after the reload began");
        Assert.True(elapsed < TimeSpan.FromSeconds(1), $"the peer's connections closed {elapsed} after the reload began");
        Assert.Equal(2, second.RevokedConnections);
        await AssertEchoesAsync(tunnel, "after reload 2");

        // Reloads 3 to 10, each with a change (a rule for a key nobody holds comes and goes): the laptop's tunnel answers after each.
        for (var reload = 3; reload <= 10; reload++)
        {
            var status = await ReloadAsync(gateway, Config(peerDatabases: null, extraRule: reload % 2 == 1));
            Assert.Equal(0, status.RevokedConnections);
            await AssertEchoesAsync(tunnel, $"after reload {reload}");
        }

        // The laptop's feed, opened before the first reload, still delivers a change made now.
        using (var put = await _couch.Admin.PutAsync("dmedia-0/after-ten-reloads", PouchDbServer.Json("{}")))
        {
            Assert.True(put.IsSuccessStatusCode, await put.Content.ReadAsStringAsync());
        }

        await laptopFeed.ReadUntilAsync("after-ten-reloads", TimeSpan.FromSeconds(20));

        // The peer's key is still trusted: it may connect, and the gateway refuses what it asks.
        await using var peerAgain = await KeepAliveClient.OpenAsync(endpoint, _peer);
        Assert.Equal(403, await peerAgain.GetStatusAsync("/couch/novacut-0-alpha"));
        await tunnel.CloseAsync(WebSocketCloseStatus.NormalClosure, "done", CancellationToken.None);
    }

    [Fact]
    public async Task ATunnelAndAFeedCloseWhenTheirOwnGrantGoesThoughTheKeyKeepsOthers()
    {
        await using var gateway = await StartAsync();
        var endpoint = new IPEndPoint(IPAddress.Loopback, gateway.Port);
        using var laptop = CertificateFactory.IssueClient(gateway.Ca, "alice-laptop");
        using var tunnel = await GatehouseWebSocket.ConnectAsync(new Uri($"wss://127.0.0.1:{gateway.Port}/feed/"), gateway.Server.Pin, laptop);
        await AssertEchoesAsync(tunnel, "before the reload");
        await using var feed = await KeepAliveClient.OpenAsync(endpoint, laptop);
        Assert.Equal(200, await feed.StartStreamAsync(LaptopFeed));

        // The laptop loses the "feed" WebSocket route and dmedia-0, and keeps the novacut databases.
        var feedClosed = feed.WaitClosedAsync();
        var stopwatch = Stopwatch.StartNew();
        var status = await ReloadAsync(gateway, Config(AllNovacut, laptopGrants: "\"proxy\": [], \"couchdb\": { \"databases\": [ \"novacut-0-*\" ], \"allow\": [ \"pull\" ] }"));
        await feedClosed.WaitAsync(TimeSpan.FromSeconds(10));
        var buffer = new byte[256];
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        await Assert.ThrowsAnyAsync<Exception>(async () =>
        {
            var result = await tunnel.ReceiveAsync(buffer, timeout.Token);
            if (result.MessageType == WebSocketMessageType.Close)
            {
                throw new WebSocketException("closed");
            }
        });
        var elapsed = stopwatch.Elapsed;
        output.WriteLine($"tunnel and feed closed {elapsed.TotalMilliseconds:F0} ms after the reload began");
        Assert.False(timeout.IsCancellationRequested, "the tunnel was still open 10 s after its grant went");
        Assert.True(elapsed < TimeSpan.FromSeconds(1), $"closed {elapsed} after the reload began");
        Assert.Equal(2, status.RevokedConnections);

        // The key keeps what it still has.
        await using var fresh = await KeepAliveClient.OpenAsync(endpoint, laptop);
        Assert.Equal(200, await fresh.GetStatusAsync("/couch/novacut-0-alpha"));
        Assert.Equal(403, await fresh.GetStatusAsync("/couch/dmedia-0"));
    }

    [Fact]
    public async Task ARouteAddedByAReloadAnswersWithoutARestart()
    {
        await using var gateway = await StartAsync();
        using var laptop = CertificateFactory.IssueClient(gateway.Ca, "alice-laptop");
        await using var client = await KeepAliveClient.OpenAsync(new IPEndPoint(IPAddress.Loopback, gateway.Port), laptop);
        Assert.Equal(404, await client.GetStatusAsync("/db/dmedia-0"));

        await ReloadAsync(gateway, Config(AllNovacut, extraRoute: """{ "kind": "couchdb", "prefix": "/db/" }"""));

        // The same keep-alive connection's next request gets the new route.
        Assert.Equal(200, await client.GetStatusAsync("/db/dmedia-0"));
        Assert.Equal(200, await client.GetStatusAsync("/couch/dmedia-0"));
    }

    [Fact]
    public async Task ABrokenRouteFailsTheWholeReloadKeepsTheOldRoutesAndRulesAndTheStatusSaysWhy()
    {
        await using var gateway = await StartAsync();
        var endpoint = new IPEndPoint(IPAddress.Loopback, gateway.Port);
        using var laptop = CertificateFactory.IssueClient(gateway.Ca, "alice-laptop");
        await using var peer = await KeepAliveClient.OpenAsync(endpoint, _peer);
        Assert.Equal(200, await peer.GetStatusAsync("/couch/novacut-0-alpha"));

        // A good new route, the peer's rule gone, and one route that cannot be served: none of it may land.
        var broken = Config(
            peerDatabases: null,
            extraRoute: """{ "kind": "couchdb", "prefix": "/db/" }, { "kind": "proxy", "prefix": "/bad/", "backend": "ftp://127.0.0.1:21" }""");
        await File.WriteAllTextAsync(gateway.Dir.File("gatehouse.json"), broken);
        var status = await gateway.Server.ReloadAsync();

        Assert.False(status.Succeeded);
        Assert.Contains("$.routes[3].backend", status.Error, StringComparison.Ordinal);
        // The old rules still hold for the peer's open connection, and the new route is not there.
        Assert.Equal(200, await peer.GetStatusAsync("/couch/novacut-0-alpha"));
        await using (var fresh = await KeepAliveClient.OpenAsync(endpoint, laptop))
        {
            Assert.Equal(404, await fresh.GetStatusAsync("/db/dmedia-0"));
            Assert.Equal(200, await fresh.GetStatusAsync("/couch/dmedia-0"));
        }

        // The local user's status page reports the failure.
        using var local = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{gateway.PortOf(1)}/") };
        using var json = JsonDocument.Parse(await local.GetStringAsync("_gatehouse/status"));
        var lastReload = json.RootElement.GetProperty("lastReload");
        Assert.False(lastReload.GetProperty("succeeded").GetBoolean());
        Assert.Equal(status.Error, lastReload.GetProperty("error").GetString());
    }

    private static async Task AssertEchoesAsync(WebSocket tunnel, string text)
    {
        await tunnel.SendAsync(System.Text.Encoding.UTF8.GetBytes(text), WebSocketMessageType.Text, endOfMessage: true, CancellationToken.None);
        Assert.StartsWith(text + " from ", await WebSocketRouteTests.ReceiveTextAsync(tunnel), StringComparison.Ordinal);
    }

    /// <summary>Writes the config and reloads; the reload must succeed.</summary>
    private static async Task<ReloadStatus> ReloadAsync(InProcessGateway gateway, string config)
    {
        await File.WriteAllTextAsync(gateway.Dir.File("gatehouse.json"), config);
        var status = await gateway.Server.ReloadAsync();
        Assert.True(status.Succeeded, status.Error);
        return status;
    }

    private async Task<InProcessGateway> StartAsync()
    {
        var options = new GatehouseServerOptions();
        options.WebSocketRoutes["feed"] = new WebSocketRoute(WebSocketRouteTests.EchoWithPrincipalAsync, new WebSocketEndpointOptions());
        var environment = JsonSerializer.Deserialize(
            $$"""
            { "couchdb": { "url": "{{_couch.Url}}",
                           "credentials": { "device": { "username": "device", "password": "{{DevicePassword}}" },
                                            "peer": { "username": "peer", "password": "{{PeerPassword}}" } } } }
            """,
            ConfigJsonContext.Default.StdinEnvironment);
        return await InProcessGateway.StartAsync(
            environment: environment,
            configJson: Config(AllNovacut),
            options: options,
            reloadable: true);
    }

    private string Config(string? peerDatabases, string? extraRoute = null, bool extraRule = false, string? laptopGrants = null) =>
        ConfigFor(KeyPin.Compute(_peer), peerDatabases, extraRoute, extraRule, laptopGrants);

    /// <summary>
    /// A TLS listener and the local user's loopback listener; the user CA's laptop may use every
    /// database and the "feed" WebSocket route; the pinned peer may pull <paramref name="peerDatabases"/>
    /// (no rule at all when null). File watching is off: these tests reload explicitly.
    /// </summary>
    private static string ConfigFor(string peerPin, string? peerDatabases, string? extraRoute = null, bool extraRule = false, string? laptopGrants = null) => $$"""
        {
          "listen": [ { "address": "127.0.0.1", "port": 0 }, { "address": "127.0.0.1", "port": 0, "tls": false, "local": true } ],
          "tls": { "certificate": "server.crt", "key": "server.key" },
          "trust": { "cas": [ { "name": "user", "certificate": "ca.crt" } ], "pins": [ { "name": "peer", "pin": "{{peerPin}}" } ] },
          "routes": [
            { "kind": "couchdb", "prefix": "/couch/" },
            { "kind": "websocket", "prefix": "/feed/", "name": "feed" }
            {{(extraRoute is null ? string.Empty : ", " + extraRoute)}}
          ],
          "rules": [
            { "principals": [ "ca:user" ], "role": "device",
              {{laptopGrants ?? """ "proxy": [ "feed" ], "couchdb": { "databases": [ "*" ], "allow": [ "pull", "push", "read", "write", "create" ] } """}} }
            {{(peerDatabases is null ? string.Empty : $$""", { "principals": [ "pinned:peer" ], "role": "peer", "couchdb": { "databases": [ {{peerDatabases}} ], "allow": [ "pull" ] } }""")}}
            {{(extraRule ? """, { "principals": [ "pinned:nobody" ], "files": [ "read" ] }""" : string.Empty)}}
          ],
          "limits": { "handshakeTimeout": 5 },
          "reload": { "watch": false }
        }
        """;
}
