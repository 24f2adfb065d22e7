using System.Text.Json;

namespace Gatehouse.Tests.Discovery;

/// <summary>`gatehouse peers` against a real gateway on this host (issue 21); no root needed.</summary>
public sealed class PeersCommandTests
{
    [Fact]
    public async Task PeersSaysDiscoveryIsOffWhenTheConfigHasNoDiscoverySection()
    {
        using var dir = new TempDirectory();
        var config = await ConfigAsync(dir, discovery: string.Empty);
        using var gateway = GatehouseProcess.Start(null, "serve", "--config", config);
        await gateway.WaitReadyAsync();

        var result = await GatehouseProcess.RunAsync(null, "peers", "--config", config);
        Assert.Equal(1, result.ExitCode);
        Assert.Contains("discovery is off", result.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task PeersShowsThisGatewaysNameAndWhatItSees()
    {
        using var dir = new TempDirectory();
        var config = await ConfigAsync(dir, discovery: """, "discovery": { "name": "test box", "announce": false }""");
        using var gateway = GatehouseProcess.Start(null, "serve", "--config", config);
        await gateway.WaitReadyAsync();

        var json = await GatehouseProcess.RunAsync(null, "peers", "--config", config, "--json");
        Assert.True(json.ExitCode == 0, json.Stderr);
        using var document = JsonDocument.Parse(json.Stdout);
        var discovery = document.RootElement;
        Assert.Equal("test box", discovery.GetProperty("name").GetString());
        Assert.False(discovery.GetProperty("announcing").GetBoolean());
        Assert.Equal(JsonValueKind.Array, discovery.GetProperty("seen").ValueKind); // other tests' gateways may be on the host

        var text = await GatehouseProcess.RunAsync(null, "peers", "--config", config);
        Assert.True(text.ExitCode == 0, text.Stderr);
        Assert.Contains("this gateway: \"test box\", not announcing", text.Stdout, StringComparison.Ordinal);

        // The status page for people shows the same (issue 19 item 5 with issue 21).
        var port = JsonDocument.Parse(await File.ReadAllTextAsync(config)).RootElement.GetProperty("listen")[1].GetProperty("port").GetInt32();
        using (var local = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}/") })
        {
            var page = await local.GetStringAsync("/_gatehouse/");
            Assert.Contains("On the local link (announcing as test box, not announcing)", page, StringComparison.Ordinal);
        }

        var badWait = await GatehouseProcess.RunAsync(null, "peers", "--config", config, "--wait", "-1");
        Assert.Equal(2, badWait.ExitCode);
    }

    [Fact]
    public async Task ABadDeviceNameIsAConfigErrorNamingTheField()
    {
        using var dir = new TempDirectory();
        var config = await ConfigAsync(dir, discovery: """, "discovery": { "name": "-\u0007bell" }""");
        var result = await GatehouseProcess.RunAsync(null, "check-config", config);
        Assert.Equal(2, result.ExitCode);
        Assert.Contains("$.discovery.name", result.Stderr, StringComparison.Ordinal);
    }

    private static async Task<string> ConfigAsync(TempDirectory dir, string discovery)
    {
        await ProcessTests.InitPlainAsync(dir);
        var file = dir.File("gatehouse.json");
        await File.WriteAllTextAsync(file, $$"""
            {
              "listen": [ { "address": "::", "port": 0 },
                          { "address": "127.0.0.1", "port": {{PeerDevices.DeadPort()}}, "tls": false, "local": true } ],
              "tls": { "certificate": "server.crt", "key": "server.key" },
              "trust": { "cas": [ { "name": "user", "certificate": "ca.crt" } ] },
              "reload": { "watch": false }{{discovery}}
            }
            """);
        return file;
    }
}
