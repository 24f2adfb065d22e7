using System.Text.Json;
using System.Text.Json.Nodes;
using Gatehouse.Wire;
using Xunit.Abstractions;

namespace Gatehouse.Tests.Discovery;

/// <summary>
/// `gatehouse pair` finding the other device on the link (issue 21): a waiting device announces
/// itself as _gatehouse-pair._tcp, the other dials it by name, zone and SRV port. When more than one
/// could be meant — several waiting, or a forger waiting under the same name — it chooses none and
/// says how to choose. Root only (network namespaces); elsewhere the tests return at once and say so.
/// </summary>
public sealed class PairOnTheLinkTests
{
    private const string CodeLine = @"^pair: code (?<code>[0-9]{3} [0-9]{3}) — ";
    private const string Announced = @"^pair: announced on the link as ""phone""";

    private readonly ITestOutputHelper _output;

    public PairOnTheLinkTests(ITestOutputHelper output) => _output = output;

    [Fact]
    public async Task AForgerWaitingUnderTheSameNameIsNeverChosenAndThePinTellsThemApart()
    {
        if (!VethCable.CanRun)
        {
            _output.WriteLine("skipped: needs root and ip(8) to make network namespaces");
            return;
        }

        // A in the middle: a cable to B ("phone") and one to C, which also calls itself "phone".
        await using var cable = await VethCable.PlugAsync();
        await cable.JoinThirdAsync();
        using var dirA = await InitAsync("laptop");
        using var dirB = await InitAsync("phone");
        using var dirC = await InitAsync("phone");
        var (pinB, pinC) = (Pin(dirB), Pin(dirC));
        using var waitingB = PairProcess.StartInNamespace(cable.B, "--config", dirB.File("gatehouse.json"), "--port", "9443");
        using var waitingC = PairProcess.StartInNamespace(cable.C, "--config", dirC.File("gatehouse.json"), "--port", "9444");
        await waitingB.WaitForLineAsync(Announced);
        await waitingC.WaitForLineAsync(Announced);
        var before = await File.ReadAllTextAsync(dirA.File("gatehouse.json"));

        // Nothing named: two are waiting, so neither is dialled.
        var bare = await GatehouseProcess.RunInNamespaceAsync(cable.A, "pair", "--config", dirA.File("gatehouse.json"), "--port", "8443", "--timeout", "30");
        Assert.True(bare.ExitCode == 1, bare.Stdout + bare.Stderr);
        Assert.Contains("2 devices are waiting to pair on the link", bare.Stderr, StringComparison.Ordinal);
        Assert.Contains($"\"phone\" {pinB}", bare.Stderr, StringComparison.Ordinal);
        Assert.Contains($"\"phone\" {pinC}", bare.Stderr, StringComparison.Ordinal);
        Assert.Contains("--with NAME", bare.Stderr, StringComparison.Ordinal);

        // By name: still two.
        var byName = await GatehouseProcess.RunInNamespaceAsync(cable.A, "pair", "--config", dirA.File("gatehouse.json"), "--port", "8443", "--with", "phone", "--timeout", "30");
        Assert.True(byName.ExitCode == 1, byName.Stdout + byName.Stderr);
        Assert.Contains("add --pin", byName.Stderr, StringComparison.Ordinal);
        Assert.Equal(before, await File.ReadAllTextAsync(dirA.File("gatehouse.json")));

        // By name and the pin B's screen shows: B, found at its zoned address and the port its SRV names.
        using var pairA = PairProcess.StartInNamespace(cable.A, "--config", dirA.File("gatehouse.json"), "--port", "8443", "--with", "phone", "--pin", pinB);
        var code = (await pairA.WaitForLineAsync(CodeLine)).Groups["code"].Value;
        Assert.Equal(code, (await waitingB.WaitForLineAsync(CodeLine)).Groups["code"].Value);
        await pairA.AnswerAsync("yes");
        await waitingB.AnswerAsync("yes");
        Assert.True(await pairA.WaitForExitAsync(TimeSpan.FromSeconds(30)) == 0, pairA.StandardOutput + pairA.StandardError);
        Assert.True(await waitingB.WaitForExitAsync(TimeSpan.FromSeconds(30)) == 0, waitingB.StandardOutput + waitingB.StandardError);

        var addressB = await VethCable.LinkLocalAsync(cable.B, cable.InterfaceB);
        // Read as JSON: the zone names an interface that exists only inside A's namespace.
        var peer = Assert.Single(Json(dirA)["peers"]!.AsArray())!;
        Assert.Equal(pinB, Assert.Single(peer["pins"]!.AsArray())!.GetValue<string>());
        Assert.Equal($"[{addressB}%{cable.InterfaceA}]:9443", Assert.Single(peer["addresses"]!.AsArray())!.GetValue<string>());
        Assert.Null(Json(dirC)["peers"]);
        Assert.DoesNotContain("connection from", waitingC.StandardOutput, StringComparison.Ordinal); // the forger was never dialled
        Assert.DoesNotContain("pair: code", waitingC.StandardOutput, StringComparison.Ordinal);
    }

    private static async Task<TempDirectory> InitAsync(string name)
    {
        var dir = new TempDirectory();
        var init = await GatehouseProcess.RunAsync(null, "init", dir.Path, "--no-passphrase", "--name", name);
        Assert.True(init.ExitCode == 0, init.Stderr);
        return dir;
    }

    private static JsonNode Json(TempDirectory dir) =>
        JsonNode.Parse(File.ReadAllText(dir.File("gatehouse.json")), documentOptions: new JsonDocumentOptions { CommentHandling = JsonCommentHandling.Skip })!;

    private static string Pin(TempDirectory dir)
    {
        using var certificate = PemFiles.LoadCertificate(dir.File("server.crt"));
        return KeyPin.Compute(certificate);
    }
}
