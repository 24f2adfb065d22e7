using System.Diagnostics;
using System.Security.Cryptography;
using System.Text.RegularExpressions;

namespace Gatehouse.Tests.Discovery;

/// <summary>
/// Two network namespaces joined by a veth pair that carries only IPv6 link-local addresses: no
/// DHCP, no routes, no config — a cable between two devices (issue 21). Needs root; names are
/// unique per run, and <see cref="DisposeAsync"/> deletes both namespaces (and with them the pair),
/// so nothing is left behind even when a test fails.
/// </summary>
internal sealed partial class VethCable : IAsyncDisposable
{
    private VethCable(string suffix)
    {
        A = "gh-a-" + suffix;
        B = "gh-b-" + suffix;
        C = "gh-c-" + suffix;
        InterfaceA = "gha" + suffix;
        InterfaceB = "ghb" + suffix;
        InterfaceAToC = "ghx" + suffix;
        InterfaceC = "ghc" + suffix;
    }

    /// <summary>A third namespace, made only by <see cref="JoinThirdAsync"/>: on its own cable to A.</summary>
    public string C { get; }

    /// <summary>A's end of the cable to C, and C's end.</summary>
    public string InterfaceAToC { get; }

    public string InterfaceC { get; }

    /// <summary>The namespaces' names.</summary>
    public string A { get; }

    public string B { get; }

    /// <summary>The veth ends inside A and inside B (at most 15 characters, as Linux requires).</summary>
    public string InterfaceA { get; }

    public string InterfaceB { get; }

    /// <summary>True when this process may make namespaces (root, as in CI); tests return early otherwise.</summary>
    public static bool CanRun => OperatingSystem.IsLinux() && Environment.IsPrivilegedProcess
        && (File.Exists("/usr/sbin/ip") || File.Exists("/sbin/ip") || File.Exists("/usr/bin/ip"));

    /// <summary>Makes the namespaces and the cable, brings everything up and waits (bounded) until duplicate address detection is done.</summary>
    public static async Task<VethCable> PlugAsync()
    {
        var cable = new VethCable(Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(4)));
        try
        {
            await IpAsync("netns", "add", cable.A);
            await IpAsync("netns", "add", cable.B);
            await IpAsync("link", "add", cable.InterfaceA, "netns", cable.A, "type", "veth", "peer", "name", cable.InterfaceB, "netns", cable.B);
            foreach (var (ns, link) in new[] { (cable.A, cable.InterfaceA), (cable.B, cable.InterfaceB) })
            {
                await IpAsync("-n", ns, "link", "set", "lo", "up");
                await IpAsync("-n", ns, "link", "set", link, "up");
            }

            await cable.WaitForLinkLocalAsync(cable.A, cable.InterfaceA);
            await cable.WaitForLinkLocalAsync(cable.B, cable.InterfaceB);
            return cable;
        }
        catch
        {
            await cable.DisposeAsync();
            throw;
        }
    }

    /// <summary>Makes namespace <see cref="C"/> and a second cable from A to it (link-local only, like the first).</summary>
    public async Task JoinThirdAsync()
    {
        await IpAsync("netns", "add", C);
        await IpAsync("link", "add", InterfaceAToC, "netns", A, "type", "veth", "peer", "name", InterfaceC, "netns", C);
        await IpAsync("-n", C, "link", "set", "lo", "up");
        await IpAsync("-n", A, "link", "set", InterfaceAToC, "up");
        await IpAsync("-n", C, "link", "set", InterfaceC, "up");
        await WaitForLinkLocalAsync(A, InterfaceAToC);
        await WaitForLinkLocalAsync(C, InterfaceC);
    }

    /// <summary>Pulls the A–B cable: both ends down.</summary>
    public async Task PullAsync()
    {
        await IpAsync("-n", A, "link", "set", InterfaceA, "down");
        await IpAsync("-n", B, "link", "set", InterfaceB, "down");
    }

    /// <summary>Plugs the A–B cable back with new hardware addresses on both ends, so both get new link-local addresses; returns once DAD is done.</summary>
    public async Task PlugBackWithNewAddressesAsync()
    {
        var random = RandomNumberGenerator.GetBytes(8);
        foreach (var (ns, link, bytes) in new[] { (A, InterfaceA, random[..4]), (B, InterfaceB, random[4..]) })
        {
            await IpAsync("-n", ns, "link", "set", link, "address", "02:00:" + string.Join(':', bytes.Select(b => b.ToString("x2", System.Globalization.CultureInfo.InvariantCulture))));
            await IpAsync("-n", ns, "link", "set", link, "up");
        }

        await WaitForLinkLocalAsync(A, InterfaceA);
        await WaitForLinkLocalAsync(B, InterfaceB);
    }

    /// <summary>The link-local address of <paramref name="link"/> in <paramref name="ns"/>, without zone.</summary>
    public static async Task<string?> LinkLocalAsync(string ns, string link)
    {
        var (_, output, _) = await RunAsync("ip", "-n", ns, "-6", "addr", "show", "dev", link);
        var match = LinkLocal().Match(output);
        return match.Success ? match.Groups[1].Value : null;
    }

    /// <summary>Runs a command to its end (at most 60 s) and returns its exit code and output.</summary>
    public static async Task<(int ExitCode, string Stdout, string Stderr)> RunAsync(string file, params string[] args)
    {
        var info = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var arg in args)
        {
            info.ArgumentList.Add(arg);
        }

        using var process = Process.Start(info)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        await process.WaitForExitAsync(timeout.Token);
        return (process.ExitCode, await stdout, await stderr);
    }

    public async ValueTask DisposeAsync()
    {
        // Deleting a namespace removes its veth end, which removes the other end too.
        foreach (var ns in new[] { A, B, C })
        {
            if (File.Exists("/run/netns/" + ns))
            {
                await RunAsync("ip", "netns", "del", ns);
            }
        }
    }

    private static async Task IpAsync(params string[] args)
    {
        var (code, _, stderr) = await RunAsync("ip", args);
        if (code != 0)
        {
            throw new InvalidOperationException($"ip {string.Join(' ', args)}: {stderr}");
        }
    }

    /// <summary>Until the fe80:: address is there and no longer tentative (DAD takes about a second); at most 10 s.</summary>
    private async Task WaitForLinkLocalAsync(string ns, string link)
    {
        for (var attempt = 0; attempt < 100; attempt++)
        {
            var (_, tentative, _) = await RunAsync("ip", "-n", ns, "-6", "addr", "show", "dev", link, "tentative");
            if (await LinkLocalAsync(ns, link) is not null && string.IsNullOrWhiteSpace(tentative))
            {
                return;
            }

            await Task.Delay(100);
        }

        throw new TimeoutException($"{link} in {ns} got no usable link-local address within 10 s");
    }

    [GeneratedRegex(@"inet6 (fe80::[0-9a-f:]+)/64")]
    private static partial Regex LinkLocal();
}
