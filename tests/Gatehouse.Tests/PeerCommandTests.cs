using System.Text.Json;
using Gatehouse.Config;

namespace Gatehouse.Tests;

/// <summary>`gatehouse peer add|remove` and `gatehouse url` through the real executable (issue 8).</summary>
public sealed class PeerCommandTests
{
    private const string Config = """
        {
          // a comment the editor may drop
          "listen": [ { "address": "127.0.0.1", "port": 5985, "tls": false, "local": true } ],
          "tls": { "certificate": "server.crt", "key": "server.key" },
          "routes": [ { "kind": "files", "prefix": "/files/", "stores": [ "store" ] } ],
          "rules": [ { "principals": [ "local" ], "files": [ "read" ], "peers": [ "*" ] } ],
          "limits": { "handshakeTimeout": 7 }
        }
        """;

    [Fact]
    public async Task PeerAddWritesAValidEntryAndKeepsTheRest()
    {
        using var dir = new TempDirectory();
        var file = dir.File("gatehouse.json");
        await File.WriteAllTextAsync(file, Config);
        var pin = PeerDevices.RandomPin();

        var (code, stdout, stderr) = await GatehouseProcess.RunAsync(null, "peer", "add", "laptop", "--pin", pin, "--address", "[::1]:8443", "--address", "laptop.local:8443", "--config", file);

        Assert.True(code == 0, stderr);
        Assert.Contains("added peer \"laptop\"", stdout, StringComparison.Ordinal);
        var config = ConfigLoader.Load(file);
        var peer = Assert.Single(config.Peers);
        Assert.Equal("laptop", peer.Name);
        Assert.Equal([pin], peer.Pins);
        Assert.Equal(["[::1]:8443", "laptop.local:8443"], peer.Addresses);
        Assert.Equal(7, config.Limits["handshakeTimeout"].GetInt32());
        Assert.Equal(["/files/"], config.Routes.Select(r => r.Prefix));
        Assert.Empty(Directory.GetFiles(dir.Path, "*.tmp"));
    }

    [Fact]
    public async Task PeerAddRefusesABadPinAndLeavesTheFileAlone()
    {
        using var dir = new TempDirectory();
        var file = dir.File("gatehouse.json");
        await File.WriteAllTextAsync(file, Config);

        var (code, _, stderr) = await GatehouseProcess.RunAsync(null, "peer", "add", "laptop", "--pin", "sha256//nope", "--address", "[::1]:8443", "--config", file);

        Assert.Equal(2, code);
        Assert.Contains("$.peers[0].pins[0]", stderr, StringComparison.Ordinal);
        Assert.Equal(Config, await File.ReadAllTextAsync(file));
        Assert.Empty(Directory.GetFiles(dir.Path, "*.tmp"));
    }

    [Fact]
    public async Task PeerAddRefusesADuplicateAndRemoveTakesItOut()
    {
        using var dir = new TempDirectory();
        var file = dir.File("gatehouse.json");
        await File.WriteAllTextAsync(file, Config);
        var pin = PeerDevices.RandomPin();
        Assert.Equal(0, (await GatehouseProcess.RunAsync(null, "peer", "add", "laptop", "--pin", pin, "--address", "127.0.0.1:8443", "--config", file)).ExitCode);

        var again = await GatehouseProcess.RunAsync(null, "peer", "add", "laptop", "--pin", pin, "--address", "127.0.0.1:8443", "--config", file);
        var removed = await GatehouseProcess.RunAsync(null, "peer", "remove", "laptop", "--config", file);

        Assert.Equal(2, again.ExitCode);
        Assert.Contains("already", again.Stderr, StringComparison.Ordinal);
        Assert.Equal(0, removed.ExitCode);
        Assert.Empty(ConfigLoader.Load(file).Peers);
    }

    [Fact]
    public async Task UrlPrintsTheLoopbackReplicationUrl()
    {
        using var dir = new TempDirectory();
        var file = dir.File("gatehouse.json");
        await File.WriteAllTextAsync(file, Config);
        Assert.Equal(0, (await GatehouseProcess.RunAsync(null, "peer", "add", "laptop", "--pin", PeerDevices.RandomPin(), "--address", "127.0.0.1:8443", "--config", file)).ExitCode);

        var (code, stdout, stderr) = await GatehouseProcess.RunAsync(null, "url", "laptop", "project/db", "--config", file);

        Assert.True(code == 0, stderr);
        Assert.Equal("http://127.0.0.1:5985/_peers/laptop/couch/project%2Fdb", stdout.Trim());
    }

    [Fact]
    public async Task UrlSaysAFixedPortIsNeeded()
    {
        using var dir = new TempDirectory();
        var file = dir.File("gatehouse.json");
        await File.WriteAllTextAsync(file, Config.Replace("\"port\": 5985", "\"port\": 0", StringComparison.Ordinal));
        Assert.Equal(0, (await GatehouseProcess.RunAsync(null, "peer", "add", "laptop", "--pin", PeerDevices.RandomPin(), "--address", "127.0.0.1:8443", "--config", file)).ExitCode);

        var (code, _, stderr) = await GatehouseProcess.RunAsync(null, "url", "laptop", "db", "--config", file);
        var unknown = await GatehouseProcess.RunAsync(null, "url", "nobody", "db", "--config", file);

        Assert.Equal(2, code);
        Assert.Contains("fixed port", stderr, StringComparison.Ordinal);
        Assert.Equal(2, unknown.ExitCode);
        Assert.Contains("no peer named \"nobody\"", unknown.Stderr, StringComparison.Ordinal);
    }
}
