using System.Net;
using System.Text.Json;
using System.Text.Json.Nodes;
using Gatehouse.Hosting;
using Gatehouse.Wire;

namespace Gatehouse.Tests;

/// <summary>
/// The peer link (issue 8) between two in-process devices: a local app on A speaks plain HTTP to
/// A's loopback listener, and A carries the request to B over mutual TLS, pinned both ways.
/// </summary>
public sealed class PeerLinkTests
{
    [Fact]
    public async Task LocalAppSeesBsViewOfAThroughTheLink()
    {
        await using var devices = await PeerDevices.StartAsync();
        using var local = devices.LocalClient();

        using var response = await local.GetAsync("_peers/B/_gatehouse/whoami");
        var body = await response.Content.ReadAsStringAsync();

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        using var whoami = JsonDocument.Parse(body);
        Assert.Equal(devices.PinA, whoami.RootElement.GetProperty("pin").GetString());
        Assert.Equal("pin", whoami.RootElement.GetProperty("trust").GetString());
        Assert.Equal("device-a", whoami.RootElement.GetProperty("trustName").GetString());
    }

    [Fact]
    public async Task WrongPinForBIsA502WithAClearReasonAndNothingReachesB()
    {
        await using var devices = await PeerDevices.StartAsync(pinsOfB: _ => [PeerDevices.RandomPin()]);
        using var local = devices.LocalClient();

        using var response = await local.GetAsync("_peers/B/_gatehouse/whoami");
        var body = await response.Content.ReadAsStringAsync();

        Assert.Equal(HttpStatusCode.BadGateway, response.StatusCode);
        Assert.Contains("peer key does not match its pins", body, StringComparison.Ordinal);
        Assert.Contains("peer key does not match its pins", devices.ALogs.Text, StringComparison.Ordinal);
        Assert.Contains(devices.B.Server.Pin, devices.ALogs.Text, StringComparison.Ordinal); // the key B did present
        Assert.DoesNotContain("Gatehouse.Access", devices.BLogs.Text, StringComparison.Ordinal);
    }

    [Fact]
    public async Task RotatedPinsAcceptEitherKey()
    {
        await using var devices = await PeerDevices.StartAsync(pinsOfB: real => [PeerDevices.RandomPin(), real]);
        using var local = devices.LocalClient();

        using var response = await local.GetAsync("_peers/B/_gatehouse/whoami");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    [Fact]
    public async Task FirstAddressDeadSecondAliveWorksAndIsKept()
    {
        var dead = PeerDevices.DeadPort();
        await using var devices = await PeerDevices.StartAsync(addresses: port => [$"127.0.0.1:{dead}", $"127.0.0.1:{port}"]);
        using var local = devices.LocalClient();

        for (var i = 0; i < 3; i++)
        {
            using var response = await local.GetAsync("_peers/B/_gatehouse/whoami");
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        }

        // The dead address was tried once, then skipped: the live one is kept.
        Assert.Single(devices.ALogs.Text.Split('\n'), line => line.Contains($"127.0.0.1:{dead}", StringComparison.Ordinal) && line.Contains("unreachable", StringComparison.Ordinal));
    }

    [Fact]
    public async Task ReachesBOverIPv6Loopback()
    {
        await using var devices = await PeerDevices.StartAsync(addresses: port => [$"[::1]:{port}"]);
        using var local = devices.LocalClient();

        using var response = await local.GetAsync("_peers/B/_gatehouse/whoami");
        var body = await response.Content.ReadAsStringAsync();

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        using var whoami = JsonDocument.Parse(body);
        Assert.Equal("::1", whoami.RootElement.GetProperty("remoteAddress").GetString());
    }

    [Fact]
    public async Task WithoutAPeersGrantTheLocalUserGets403()
    {
        await using var devices = await PeerDevices.StartAsync(localGrant: null);
        using var local = devices.LocalClient();

        using var response = await local.GetAsync("_peers/B/_gatehouse/whoami");

        Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
        Assert.Equal(0, devices.B.Server.OpenConnections);
    }

    [Fact]
    public async Task UnknownPeerIs404()
    {
        await using var devices = await PeerDevices.StartAsync(localGrant: "*");
        using var local = devices.LocalClient();

        using var response = await local.GetAsync("_peers/C/_gatehouse/whoami");

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
    }

    [Fact]
    public async Task PeersPathOnTheTlsListenerIs404EvenWithAGrant()
    {
        await using var devices = await PeerDevices.StartAsync();
        using var device = CertificateFactory.IssueClient(devices.A.Ca, "alice-phone"); // ca:user has peers ["*"] on A
        using var client = devices.A.CreateClient(device);

        using var response = await client.GetAsync("_peers/B/_gatehouse/whoami");

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        Assert.Equal(0, devices.B.Server.OpenConnections);
    }

    [Fact]
    public async Task TwoRequestsShareOnePooledTlsConnection()
    {
        await using var devices = await PeerDevices.StartAsync();
        using var local = devices.LocalClient();

        for (var i = 0; i < 2; i++)
        {
            using var response = await local.GetAsync("_peers/B/_gatehouse/whoami");
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            await response.Content.ReadAsStringAsync();
        }

        Assert.Equal(1, devices.B.Server.OpenConnections);
    }

    [Fact]
    public async Task BsOwnRefusalReachesTheLocalApp()
    {
        // B's files route is granted to its user CA only; A's key is pinned but has no files grant.
        await using var devices = await PeerDevices.StartAsync();
        using var local = devices.LocalClient();

        using var response = await local.GetAsync("_peers/B/files/0000");

        Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
        Assert.Contains("no files read grant", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal); // B's words, not A's
    }

    [Fact]
    public async Task RemovingBFromThePeerTableOnReloadStopsTheLink()
    {
        await using var devices = await PeerDevices.StartAsync(localGrant: "*");
        var file = devices.A.Dir.File("gatehouse.json");
        await using var a = GatehouseServer.CreateFromFile(file, null, TestLogFile.Options()); // A again, from its file, so it can reload
        a.Start();
        using var local = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{a.BoundEndpoints[1].Port}/") };
        using (var before = await local.GetAsync("_peers/B/_gatehouse/whoami"))
        {
            Assert.Equal(HttpStatusCode.OK, before.StatusCode);
        }

        var config = JsonNode.Parse(await File.ReadAllTextAsync(file))!.AsObject();
        config.Remove("peers");
        await File.WriteAllTextAsync(file, config.ToJsonString());
        var reload = await a.ReloadAsync();

        Assert.True(reload.Succeeded, reload.Error);
        using var after = await local.GetAsync("_peers/B/_gatehouse/whoami");
        Assert.Equal(HttpStatusCode.NotFound, after.StatusCode);
    }
}
