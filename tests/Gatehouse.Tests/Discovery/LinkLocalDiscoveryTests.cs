using System.Text.Json;
using Gatehouse.Wire;

namespace Gatehouse.Tests.Discovery;

/// <summary>
/// Discovery over a cable (issue 21 item 1): two real gateways, each in its own network namespace,
/// joined by a veth pair with only IPv6 link-local addresses. They find each other by multicast DNS
/// alone; a known pin is dialled where it was heard; a forged announcement is only listed.
/// Needs root (CI has it); elsewhere the tests return at once.
/// </summary>
public sealed class LinkLocalDiscoveryTests
{
    private const int TlsPort = 8443;
    private const int LoopbackPort = 5985;

    [Fact]
    public async Task TwoGatewaysOnALinkLocalCableSeeEachOtherWithZonedAddresses()
    {
        if (!VethCable.CanRun)
        {
            return;
        }

        await using var cable = await VethCable.PlugAsync();
        using var dirA = new TempDirectory();
        using var dirB = new TempDirectory();
        var pinA = await InitAsync(dirA, "laptop", peers: "");
        var pinB = await InitAsync(dirB, "phone", peers: "");
        using var a = await ServeAsync(cable.A, dirA);
        using var b = await ServeAsync(cable.B, dirB);

        var seenByA = await PeersAsync(cable.A, dirA);
        var seenByB = await PeersAsync(cable.B, dirB);

        var phone = Assert.Single(seenByA.GetProperty("seen").EnumerateArray());
        Assert.Equal("phone", phone.GetProperty("name").GetString());
        Assert.Equal(pinB, phone.GetProperty("pin").GetString());
        Assert.False(phone.GetProperty("paired").GetBoolean());
        var addressB = await VethCable.LinkLocalAsync(cable.B, cable.InterfaceB);
        Assert.Equal($"[{addressB}%{cable.InterfaceA}]:{TlsPort}", Assert.Single(phone.GetProperty("addresses").EnumerateArray()).GetString());

        var laptop = Assert.Single(seenByB.GetProperty("seen").EnumerateArray());
        Assert.Equal(pinA, laptop.GetProperty("pin").GetString());
        Assert.Equal([cable.InterfaceB], seenByB.GetProperty("interfaces").EnumerateArray().Select(i => i.GetString()));

        // The terminal view says the same, as a person reads it.
        var text = await GatehouseProcess.RunInNamespaceAsync(cable.A, "peers", "--config", dirA.File("gatehouse.json"));
        Assert.True(text.ExitCode == 0, text.Stderr);
        Assert.Contains($"\"phone\"  {pinB}  not paired", text.Stdout, StringComparison.Ordinal);
        Assert.Contains($"[{addressB}%{cable.InterfaceA}]:{TlsPort}", text.Stdout, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AKnownPinIsDialledWhereItWasHeardAndAForgedNameIsNot()
    {
        if (!VethCable.CanRun)
        {
            return;
        }

        await using var cable = await VethCable.PlugAsync();
        using var dirA = new TempDirectory();
        using var dirB = new TempDirectory();
        using var dirC = new TempDirectory();
        var pinB = await InitAsync(dirB, "phone", peers: "");
        // A knows B by pin only: its table's address is wrong (nothing listens on [::1]:9 in A).
        var pinA = await InitAsync(dirA, "laptop", peers: $$"""[ { "name": "phone", "pins": [ "{{pinB}}" ], "addresses": [ "[::1]:9" ] } ]""");
        await TrustAsync(dirB, pinA);
        // C, on B's side of the cable, claims B's name with its own key and another port.
        var pinC = await InitAsync(dirC, "phone", peers: "", tlsPort: TlsPort + 1, loopbackPort: LoopbackPort + 1);
        using var b = await ServeAsync(cable.B, dirB);
        using var c = await ServeAsync(cable.B, dirC);
        using var a = await ServeAsync(cable.A, dirA);

        var seen = await PeersAsync(cable.A, dirA, count: 2);
        var byPin = seen.GetProperty("seen").EnumerateArray().ToDictionary(g => g.GetProperty("pin").GetString()!);
        Assert.Equal("phone", byPin[pinB].GetProperty("peer").GetString());
        Assert.True(byPin[pinB].GetProperty("paired").GetBoolean());
        Assert.False(byPin[pinC].GetProperty("paired").GetBoolean());
        Assert.Equal("phone", byPin[pinC].GetProperty("name").GetString());

        var answer = await VethCable.RunAsync("ip", "netns", "exec", cable.A, "curl", "-sS", "--max-time", "20", $"http://127.0.0.1:{LoopbackPort}/_peers/phone/_gatehouse/whoami");
        Assert.True(answer.ExitCode == 0, answer.Stderr);
        Assert.Contains(pinA, answer.Stdout, StringComparison.Ordinal); // B saw A's key

        var addressA = await VethCable.LinkLocalAsync(cable.A, cable.InterfaceA);
        var addressB = await VethCable.LinkLocalAsync(cable.B, cable.InterfaceB);
        Assert.Contains($"dialling where discovery heard it first: [{addressB}%{cable.InterfaceA}]:{TlsPort}", a.StandardError, StringComparison.Ordinal);
        // C is listed (discovery's own log names it), but nothing else in A ever mentions its port.
        Assert.DoesNotContain(BeyondDiscovery(a), line => line.Contains($"]:{TlsPort + 1}", StringComparison.Ordinal));
        Assert.Contains(addressA!, b.StandardError, StringComparison.Ordinal); // B's access log names A
        Assert.DoesNotContain(BeyondDiscovery(c), line => line.Contains(addressA!, StringComparison.Ordinal)); // C was never connected to
    }

    [Fact]
    public async Task ThePeerLinkRecoversByDiscoveryAloneWhenTheCableComesBackWithNewAddresses()
    {
        if (!VethCable.CanRun)
        {
            return;
        }

        await using var cable = await VethCable.PlugAsync();
        using var dirA = new TempDirectory();
        using var dirB = new TempDirectory();
        var pinB = await InitAsync(dirB, "phone", peers: "");
        var pinA = await InitAsync(dirA, "laptop", peers: $$"""[ { "name": "phone", "pins": [ "{{pinB}}" ], "addresses": [ "[::1]:9" ] } ]""");
        await TrustAsync(dirB, pinA);
        using var b = await ServeAsync(cable.B, dirB);
        using var a = await ServeAsync(cable.A, dirA);
        await PeersAsync(cable.A, dirA);
        Assert.True(await WhoAmIThroughPeerLinkAsync(cable.A, pinA), a.StandardError);
        var before = await VethCable.LinkLocalAsync(cable.B, cable.InterfaceB);

        // Pull the cable, give B's end a new hardware address (so a new link-local address), plug it back.
        await VethCable.RunAsync("ip", "-n", cable.B, "link", "set", cable.InterfaceB, "down");
        await VethCable.RunAsync("ip", "-n", cable.B, "link", "set", cable.InterfaceB, "address", "02:00:00:00:21:01");
        await VethCable.RunAsync("ip", "-n", cable.B, "link", "set", cable.InterfaceB, "up");
        var plugged = System.Diagnostics.Stopwatch.StartNew();
        var recovered = false;
        while (!recovered && plugged.Elapsed < TimeSpan.FromSeconds(10))
        {
            recovered = await WhoAmIThroughPeerLinkAsync(cable.A, pinA);
            if (!recovered)
            {
                await Task.Delay(250);
            }
        }

        var after = await VethCable.LinkLocalAsync(cable.B, cable.InterfaceB);
        Assert.NotEqual(before, after);
        Assert.True(recovered, $"no answer through the peer link within 10 s of plugging back in; A's log:\n{a.StandardError}");
        Assert.Contains($"[{after}%{cable.InterfaceA}]:{TlsPort}", a.StandardError, StringComparison.Ordinal);
    }

    /// <summary>GET /_peers/phone/_gatehouse/whoami on A's loopback listener; true when B answered and saw A's key.</summary>
    private static async Task<bool> WhoAmIThroughPeerLinkAsync(string ns, string pinA)
    {
        var answer = await VethCable.RunAsync("ip", "netns", "exec", ns, "curl", "-sS", "--max-time", "5", $"http://127.0.0.1:{LoopbackPort}/_peers/phone/_gatehouse/whoami");
        return answer.ExitCode == 0 && answer.Stdout.Contains(pinA, StringComparison.Ordinal);
    }

    /// <summary>The log lines of everything but discovery itself (which lists whatever it hears).</summary>
    private static IEnumerable<string> BeyondDiscovery(GatehouseProcess process) =>
        process.StandardError.Split('\n').Where(line => !line.Contains("\"Category\":\"Gatehouse.Discovery\"", StringComparison.Ordinal));

    /// <summary>`gatehouse init`, then a config of its files: a fixed TLS port, a plain loopback listener, discovery on.</summary>
    private static async Task<string> InitAsync(TempDirectory dir, string name, string peers, int tlsPort = TlsPort, int loopbackPort = LoopbackPort)
    {
        var init = await GatehouseProcess.RunAsync(null, "init", dir.Path, "--no-passphrase", "--name", "localhost");
        Assert.True(init.ExitCode == 0, init.Stderr);
        var peerTable = peers.Length > 0 ? $$""" "peers": {{peers}}, """ : string.Empty;
        await File.WriteAllTextAsync(dir.File("gatehouse.json"), $$"""
            {
              "listen": [ { "address": "::", "port": {{tlsPort}} },
                          { "address": "127.0.0.1", "port": {{loopbackPort}}, "tls": false, "local": true } ],
              "tls": { "certificate": "server.crt", "key": "server.key" },
              "trust": { "cas": [ { "name": "user", "certificate": "ca.crt" } ], "pins": [] },
              {{peerTable}}
              "rules": [ { "principals": [ "local" ], "peers": [ "*" ] } ],
              "reload": { "watch": false },
              "discovery": { "name": "{{name}}" }
            }
            """);
        return KeyPin.Compute(PemFiles.LoadCertificate(dir.File("server.crt")));
    }

    /// <summary>Lets the gateway of <paramref name="pin"/> in, as a pinned principal with no grants (whoami needs none).</summary>
    private static async Task TrustAsync(TempDirectory dir, string pin)
    {
        var text = await File.ReadAllTextAsync(dir.File("gatehouse.json"));
        await File.WriteAllTextAsync(dir.File("gatehouse.json"), text.Replace("\"pins\": []", $$"""
            "pins": [ { "name": "laptop", "pin": "{{pin}}" } ]
            """, StringComparison.Ordinal));
    }

    private static async Task<GatehouseProcess> ServeAsync(string ns, TempDirectory dir)
    {
        var process = GatehouseProcess.StartInNamespace(ns, null, "serve", "--config", dir.File("gatehouse.json"));
        try
        {
            await process.WaitReadyAsync();
            return process;
        }
        catch
        {
            process.Dispose();
            throw;
        }
    }

    /// <summary>`gatehouse peers --wait --json` in <paramref name="ns"/> until <paramref name="count"/> gateways are seen (at most 20 tries).</summary>
    private static async Task<JsonElement> PeersAsync(string ns, TempDirectory dir, int count = 1)
    {
        JsonElement discovery = default;
        for (var attempt = 0; attempt < 20; attempt++)
        {
            var result = await GatehouseProcess.RunInNamespaceAsync(ns, "peers", "--config", dir.File("gatehouse.json"), "--wait", "10", "--json");
            Assert.True(result.ExitCode == 0, result.Stdout + result.Stderr);
            using var document = JsonDocument.Parse(result.Stdout);
            discovery = document.RootElement.Clone();
            if (discovery.GetProperty("seen").GetArrayLength() >= count)
            {
                return discovery;
            }

            await Task.Delay(250);
        }

        return discovery;
    }
}
