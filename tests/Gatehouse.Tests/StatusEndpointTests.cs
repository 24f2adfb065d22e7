using System.Net;
using System.Text.Json;
using Gatehouse.Config;
using Gatehouse.Wire;

namespace Gatehouse.Tests;

/// <summary>Issue 7: /_gatehouse/status shows listeners, the last reload and who is connected — to the local user and admins only.</summary>
public sealed class StatusEndpointTests
{
    [Fact]
    public async Task TheLocalUserSeesListenersAndConnectionsPerPrincipal()
    {
        await using var gateway = await InProcessGateway.StartAsync(config =>
        {
            config.Listen.Add(new ListenConfig { Address = "127.0.0.1", Port = 0, Tls = false, Local = true });
            return config;
        });
        using var device = CertificateFactory.IssueClient(gateway.Ca, "alice-laptop");
        using var tlsClient = gateway.CreateClient(device);
        (await tlsClient.GetAsync("/_gatehouse/whoami")).Dispose(); // holds a keep-alive connection for the device's key

        using var local = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{gateway.PortOf(1)}/") };
        using var response = await local.GetAsync("/_gatehouse/status");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        using var status = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        var root = status.RootElement;
        Assert.Equal(2, root.GetProperty("listen").GetArrayLength());
        Assert.Equal(JsonValueKind.Null, root.GetProperty("lastReload").ValueKind);
        var byPrincipal = root.GetProperty("connections").GetProperty("byPrincipal");
        Assert.Equal(1, byPrincipal.GetProperty(KeyPin.Compute(device)).GetInt32());
        Assert.True(byPrincipal.GetProperty("local").GetInt32() >= 1);
    }

    [Fact]
    public async Task ARemotePrincipalWithoutAdminIsRefused()
    {
        await using var gateway = await InProcessGateway.StartAsync();
        using var device = CertificateFactory.IssueClient(gateway.Ca, "alice-laptop");
        using var http = gateway.CreateClient(device);
        using var response = await http.GetAsync("/_gatehouse/status");
        Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
    }

    [Fact]
    public async Task AnAdminPrincipalSeesTheStatus()
    {
        await using var gateway = await InProcessGateway.StartAsync(config =>
        {
            config.Rules[0].Admin = true;
            return config;
        });
        using var device = CertificateFactory.IssueClient(gateway.Ca, "alice-laptop");
        using var http = gateway.CreateClient(device);
        using var status = JsonDocument.Parse(await http.GetStringAsync("/_gatehouse/status"));
        Assert.True(status.RootElement.GetProperty("connections").GetProperty("open").GetInt32() >= 1);
    }
}

public sealed class StatusRenderingTests
{
    [Fact]
    public void AFailedReloadIsShownWithItsReason()
    {
        var status = new Gatehouse.Observability.GatehouseStatus(
            DateTimeOffset.UnixEpoch,
            [new ReadyEndpoint { Address = "::", Port = 8443, Tls = true }],
            new Gatehouse.Observability.ReloadStatus(DateTimeOffset.UnixEpoch.AddMinutes(5), false, "gatehouse.json: $.trust.pins[0].pin: bad pin", 0),
            3,
            new Dictionary<string, int> { ["sha256//abc+/="] = 2, ["local"] = 1 });
        using var json = JsonDocument.Parse(Gatehouse.Observability.StatusEndpoint.Render(status));
        var reload = json.RootElement.GetProperty("lastReload");
        Assert.False(reload.GetProperty("succeeded").GetBoolean());
        Assert.Contains("$.trust.pins[0].pin", reload.GetProperty("error").GetString());
        Assert.Equal(2, json.RootElement.GetProperty("connections").GetProperty("byPrincipal").GetProperty("sha256//abc+/=").GetInt32());
        Assert.Contains("sha256//abc+/=", System.Text.Encoding.UTF8.GetString(Gatehouse.Observability.StatusEndpoint.Render(status)));
    }
}
