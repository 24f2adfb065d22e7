using System.Diagnostics;
using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Authentication;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using System.Text.Json;
using Gatehouse.Config;
using Gatehouse.Hosting;
using Gatehouse.Wire;
using Xunit.Abstractions;

namespace Gatehouse.Tests;

/// <summary>
/// Hot reload of identity and trust (issue 7), in-process through <see cref="GatehouseServer.ReloadAsync"/>
/// and in the real executable through SIGHUP.
/// </summary>
public sealed class ReloadTests(ITestOutputHelper output)
{
    private const int SigHup = 1;
    private const string Passphrase = TestSecrets.ReloadPassphrase;

    [Fact]
    public async Task ReloadSwapsTheServerCertificateForNewHandshakes()
    {
        using var site = ReloadSite.Create();
        await using var server = GatehouseServer.CreateFromFile(site.ConfigPath, new StdinEnvironment { KeyPassphrase = Passphrase }, TestLogFile.Options());
        server.Start();
        var endpoint = new IPEndPoint(IPAddress.Loopback, server.BoundEndpoints[0].Port);
        var oldPin = server.Pin;

        await using (var before = await KeepAliveClient.OpenAsync(endpoint, site.Laptop))
        {
            Assert.Equal(oldPin, before.ServerPin);
            var newPin = site.RenewServerCertificate();

            var status = await server.ReloadAsync();

            Assert.True(status.Succeeded, status.Error);
            Assert.Same(status, server.ReloadStatus);
            Assert.Equal(newPin, server.Pin);
            // The connection made before the swap is untouched and still served.
            Assert.Equal(200, await before.GetStatusAsync("/_gatehouse/whoami"));
            await using var after = await KeepAliveClient.OpenAsync(endpoint, site.Laptop);
            Assert.Equal(newPin, after.ServerPin);
        }
    }

    [Fact]
    public async Task NoRequestFailsWhileTheServerCertificateIsSwappedUnderLoad()
    {
        using var site = ReloadSite.Create();
        await using var server = GatehouseServer.CreateFromFile(site.ConfigPath, new StdinEnvironment { KeyPassphrase = Passphrase }, TestLogFile.Options());
        server.Start();
        var endpoint = new IPEndPoint(IPAddress.Loopback, server.BoundEndpoints[0].Port);
        var seenPins = new HashSet<string>();
        var failures = new List<string>();
        var requests = 0;
        using var stop = new CancellationTokenSource();

        var load = Task.Run(async () =>
        {
            while (!stop.IsCancellationRequested)
            {
                try
                {
                    // A new connection each time, so every request runs a new handshake.
                    await using var client = await KeepAliveClient.OpenAsync(endpoint, site.Laptop);
                    var status = await client.GetStatusAsync("/_gatehouse/whoami");
                    lock (seenPins)
                    {
                        seenPins.Add(client.ServerPin);
                        requests++;
                        if (status != 200)
                        {
                            failures.Add("status " + status);
                        }
                    }
                }
                catch (Exception ex) when (ex is IOException or AuthenticationException or SocketException)
                {
                    lock (seenPins)
                    {
                        failures.Add(ex.Message);
                    }
                }
            }
        });

        string lastPin = server.Pin;
        for (var i = 0; i < 3; i++)
        {
            await Task.Delay(200);
            lastPin = site.RenewServerCertificate();
            Assert.True((await server.ReloadAsync()).Succeeded);
        }

        // Keep the load on until it has met the last certificate (bounded: a loaded machine may
        // need a while for its next handshake), rather than for a fixed time that may be too short.
        var deadline = Environment.TickCount64 + 15_000;
        while (Environment.TickCount64 < deadline)
        {
            lock (seenPins)
            {
                if (seenPins.Contains(lastPin) && requests > 10)
                {
                    break;
                }
            }

            await Task.Delay(50);
        }

        await stop.CancelAsync();
        await load;

        Assert.Empty(failures);
        Assert.True(requests > 10, $"only {requests} requests");
        Assert.Contains(lastPin, seenPins);
        await using var final = await KeepAliveClient.OpenAsync(endpoint, site.Laptop);
        Assert.Equal(lastPin, final.ServerPin);
    }

    [Fact]
    public async Task ABrokenConfigKeepsTheOldOneInForceAndSaysWhy()
    {
        using var site = ReloadSite.Create();
        await using var server = GatehouseServer.CreateFromFile(site.ConfigPath, new StdinEnvironment { KeyPassphrase = Passphrase }, TestLogFile.Options());
        server.Start();
        var endpoint = new IPEndPoint(IPAddress.Loopback, server.BoundEndpoints[0].Port);
        await using var phone = await KeepAliveClient.OpenAsync(endpoint, site.Phone);

        await File.WriteAllTextAsync(site.ConfigPath, site.Config(pins: false).Replace("\"trust\"", "\"trust\" [", StringComparison.Ordinal));
        var status = await server.ReloadAsync();

        Assert.False(status.Succeeded);
        Assert.Contains(site.ConfigPath, status.Error, StringComparison.Ordinal);
        Assert.Same(status, server.ReloadStatus);
        // The old trust still holds: the pinned phone is still served, and may connect anew.
        Assert.Equal(200, await phone.GetStatusAsync("/_gatehouse/whoami"));
        await using var again = await KeepAliveClient.OpenAsync(endpoint, site.Phone);
        Assert.Equal(200, await again.GetStatusAsync("/_gatehouse/whoami"));
    }

    [Fact]
    public async Task AReloadWhoseKeyCannotBeReadKeepsTheOldIdentity()
    {
        using var site = ReloadSite.Create();
        await using var server = GatehouseServer.CreateFromFile(site.ConfigPath, new StdinEnvironment { KeyPassphrase = Passphrase }, TestLogFile.Options());
        server.Start();
        var pin = server.Pin;
        await File.WriteAllTextAsync(site.Dir.File("server.key"), "not a key\n");

        var status = await server.ReloadAsync();

        Assert.False(status.Succeeded);
        Assert.Contains("server.key", status.Error, StringComparison.Ordinal);
        Assert.Equal(pin, server.Pin);
    }

    [Fact]
    public async Task AServerBuiltFromAnObjectReportsThatItCannotReload()
    {
        await using var gateway = await InProcessGateway.StartAsync(address: "127.0.0.1");
        var status = await gateway.Server.ReloadAsync();
        Assert.False(status.Succeeded);
        Assert.Contains("not created from a config file", status.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task SighupRevokesARemovedPinOnItsLiveConnectionAndABrokenConfigKeepsTheOldOne()
    {
        using var site = ReloadSite.Create();
        using var gatehouse = GatehouseProcess.Start($$"""{ "keyPassphrase": "{{Passphrase}}" }""", "serve", "--config", site.ConfigPath, "--env-stdin");
        var ready = await gatehouse.WaitReadyAsync();
        var endpoint = new IPEndPoint(IPAddress.Loopback, ready.GetProperty("listen")[0].GetProperty("port").GetInt32());

        // Two keep-alive connections, idle after their first request: the pinned phone and the CA-issued laptop.
        await using var phone = await KeepAliveClient.OpenAsync(endpoint, site.Phone);
        await using var laptop = await KeepAliveClient.OpenAsync(endpoint, site.Laptop);
        Assert.Equal(200, await phone.GetStatusAsync("/_gatehouse/whoami"));
        Assert.Equal(200, await laptop.GetStatusAsync("/_gatehouse/whoami"));
        var phoneClosed = phone.WaitClosedAsync();

        await File.WriteAllTextAsync(site.ConfigPath, site.Config(pins: false));
        var stopwatch = Stopwatch.StartNew();
        gatehouse.Signal(SigHup);

        await phoneClosed.WaitAsync(TimeSpan.FromSeconds(10));
        var elapsed = stopwatch.Elapsed;
        Assert.True(elapsed < TimeSpan.FromSeconds(1.5), $"the phone's connection closed {elapsed} after SIGHUP");
        await WaitForLogAsync(gatehouse, "reloaded");
        Assert.Contains(LogMessages(gatehouse), m => m.StartsWith("revoked", StringComparison.Ordinal) && m.Contains(site.PhonePin, StringComparison.Ordinal));

        // The phone's key is refused from now on; the laptop's connection and new ones are fine.
        await AssertRefusedAsync(endpoint, site.Phone);
        Assert.Equal(200, await laptop.GetStatusAsync("/_gatehouse/whoami"));
        await using (var fresh = await KeepAliveClient.OpenAsync(endpoint, site.Laptop))
        {
            Assert.Equal(200, await fresh.GetStatusAsync("/_gatehouse/whoami"));
        }

        // A broken config on the next SIGHUP: the old one stays in force and the log says why.
        await File.WriteAllTextAsync(site.ConfigPath, "{ \"listen\": [ ");
        gatehouse.Signal(SigHup);
        await WaitForLogAsync(gatehouse, "reload failed");
        Assert.Contains(LogMessages(gatehouse), m => m.StartsWith("reload failed", StringComparison.Ordinal) && m.Contains(site.ConfigPath, StringComparison.Ordinal));
        Assert.Equal(200, await laptop.GetStatusAsync("/_gatehouse/whoami"));
        await using (var fresh = await KeepAliveClient.OpenAsync(endpoint, site.Laptop))
        {
            Assert.Equal(200, await fresh.GetStatusAsync("/_gatehouse/whoami"));
        }

        await AssertRefusedAsync(endpoint, site.Phone);
        Assert.DoesNotContain(Passphrase, gatehouse.StandardError, StringComparison.Ordinal);
        gatehouse.Signal(15);
        Assert.Equal(0, await gatehouse.WaitForExitAsync(TimeSpan.FromSeconds(30)));
    }

    [Fact]
    public async Task TheExecutableReloadsWhenItsCertificateOrConfigChangesOnDiskWithoutASignal()
    {
        using var site = ReloadSite.Create(watch: true);
        using var gatehouse = GatehouseProcess.Start($$"""{ "keyPassphrase": "{{Passphrase}}" }""", "serve", "--config", site.ConfigPath, "--env-stdin");
        var ready = await gatehouse.WaitReadyAsync();
        var endpoint = new IPEndPoint(IPAddress.Loopback, ready.GetProperty("listen")[0].GetProperty("port").GetInt32());
        await using (var phone = await KeepAliveClient.OpenAsync(endpoint, site.Phone))
        {
            Assert.Equal(200, await phone.GetStatusAsync("/_gatehouse/whoami"));
        }

        // 1. A new server key and certificate written one after the other: new handshakes show the new pin.
        var newPin = site.RenewServerCertificate();
        await EventuallyAsync("the new server certificate on a new handshake", async () =>
        {
            await using var client = await KeepAliveClient.OpenAsync(endpoint, site.Laptop);
            return client.ServerPin == newPin;
        });

        // 2. The config replaced the way editors save (write another file, rename it over): the phone's pin is gone.
        var saved = site.Dir.File("gatehouse.json.tmp");
        await File.WriteAllTextAsync(saved, site.Config(pins: false));
        File.Move(saved, site.ConfigPath, overwrite: true);
        var sinceSave = Stopwatch.StartNew();
        await EventuallyAsync("the phone refused after its pin left the config", async () =>
        {
            try
            {
                await using var client = await KeepAliveClient.OpenAsync(endpoint, site.Phone);
                // TLS 1.3: the refused key is told so in a 403 (HandshakeRefusal); whoami is 200 to any key let in.
                return await client.GetStatusAsync("/_gatehouse/whoami") == 403;
            }
            catch (Exception ex) when (ex is IOException or AuthenticationException or SocketException)
            {
                return true;
            }
        });

        output.WriteLine($"a saved config was in force {sinceSave.ElapsedMilliseconds} ms later (debounce {ConfigFileWatcher.Debounce.TotalMilliseconds} ms)");

        // Debounced: the key-and-certificate pair was one reload, the rename another, and no signal was sent.
        await EventuallyAsync("two reloads logged", () => Task.FromResult(LogMessages(gatehouse).Count(m => m.StartsWith("reloaded", StringComparison.Ordinal)) >= 2));
        Assert.Equal(2, LogMessages(gatehouse).Count(m => m.StartsWith("reloaded", StringComparison.Ordinal)));
        Assert.DoesNotContain(LogMessages(gatehouse), m => m.StartsWith("reload failed", StringComparison.Ordinal));
        gatehouse.Signal(15);
        Assert.Equal(0, await gatehouse.WaitForExitAsync(TimeSpan.FromSeconds(30)));
    }

    [Fact]
    public async Task TheWatchFollowsTheFilesTheReloadedConfigNames()
    {
        using var site = ReloadSite.Create(watch: true);
        await using var server = GatehouseServer.CreateFromFile(site.ConfigPath, new StdinEnvironment { KeyPassphrase = Passphrase });
        server.Start();
        Assert.Contains(site.Dir.File("server.crt"), server.WatchedFiles);

        // The config now names another certificate and key, in a folder of their own: saving it reloads.
        Directory.CreateDirectory(site.Dir.File("renewed"));
        var renewedPin = site.RenewServerCertificate("renewed/identity");
        await File.WriteAllTextAsync(site.ConfigPath, site.Config(pins: true).Replace("\"server.", "\"renewed/identity.", StringComparison.Ordinal));
        // The identity is swapped a moment before the watch moves: wait for both.
        await EventuallyAsync("the renewed identity in force and watched", () =>
            Task.FromResult(server.Pin == renewedPin && server.WatchedFiles.Contains(site.Dir.File("renewed/identity.key"))));
        Assert.DoesNotContain(site.Dir.File("server.crt"), server.WatchedFiles);

        // A change to the newly named files reloads; the old ones are no longer watched.
        site.RenewServerCertificate();
        var againPin = site.RenewServerCertificate("renewed/identity");
        await EventuallyAsync("the second renewal in force", () => Task.FromResult(server.Pin == againPin));
        Assert.True(server.ReloadStatus!.Succeeded, server.ReloadStatus.Error);
    }

    [Fact]
    public async Task AChangedLimitIsLoggedAsNeedingARestartAndLeftAsItWas()
    {
        using var site = ReloadSite.Create();
        using var logs = new CapturedLogs();
        await using var server = GatehouseServer.CreateFromFile(site.ConfigPath, new StdinEnvironment { KeyPassphrase = Passphrase }, new GatehouseServerOptions { Loggers = logs.Factory });
        server.Start();
        var handshakeTimeout = server.Limits.Wire.HandshakeTimeout;

        await File.WriteAllTextAsync(site.ConfigPath, site.Config(pins: true).Replace("\"handshakeTimeout\": 5", "\"handshakeTimeout\": 7", StringComparison.Ordinal));
        var status = await server.ReloadAsync();

        Assert.True(status.Succeeded, status.Error);
        Assert.Equal(handshakeTimeout, server.Limits.Wire.HandshakeTimeout);
        Assert.Contains("$.limits changed; that takes effect only on restart", logs.Text, StringComparison.Ordinal);
        Assert.DoesNotContain("$.listen changed", logs.Text, StringComparison.Ordinal);
    }

    [Fact]
    public async Task TurningTheTlsTuningOffIsLoggedAsNeedingARestart()
    {
        using var site = ReloadSite.Create();
        using var logs = new CapturedLogs();
        await using var server = GatehouseServer.CreateFromFile(site.ConfigPath, new StdinEnvironment { KeyPassphrase = Passphrase }, new GatehouseServerOptions { Loggers = logs.Factory });
        server.Start();

        await File.WriteAllTextAsync(site.ConfigPath, site.Config(pins: true).Replace("\"limits\":", "\"runtime\": { \"tlsTuning\": false }, \"limits\":", StringComparison.Ordinal));
        var status = await server.ReloadAsync();

        Assert.True(status.Succeeded, status.Error);
        Assert.Contains("$.runtime changed; that takes effect only on restart", logs.Text, StringComparison.Ordinal);
        Assert.DoesNotContain("$.limits changed", logs.Text, StringComparison.Ordinal);
    }

    [Fact]
    public async Task WithWatchingOffNothingIsWatchedAndAnExplicitReloadStillWorks()
    {
        using var site = ReloadSite.Create(watch: false);
        await using var server = GatehouseServer.CreateFromFile(site.ConfigPath, new StdinEnvironment { KeyPassphrase = Passphrase });
        server.Start();
        Assert.Empty(server.WatchedFiles);

        var newPin = site.RenewServerCertificate();

        Assert.True((await server.ReloadAsync()).Succeeded);
        Assert.Equal(newPin, server.Pin);
    }

    /// <summary>Polls <paramref name="condition"/> until it holds, for at most 20 s.</summary>
    private static async Task EventuallyAsync(string what, Func<Task<bool>> condition)
    {
        var deadline = Stopwatch.StartNew();
        while (!await condition())
        {
            if (deadline.Elapsed > TimeSpan.FromSeconds(20))
            {
                throw new TimeoutException("never saw " + what);
            }

            await Task.Delay(50);
        }
    }

    /// <summary>The "Message" of every JSON log line on stderr (JSON escapes '+' in pins, so compare decoded text).</summary>
    private static List<string> LogMessages(GatehouseProcess process)
    {
        var messages = new List<string>();
        foreach (var line in process.StandardError.Split('\n', StringSplitOptions.RemoveEmptyEntries))
        {
            if (!line.StartsWith('{'))
            {
                continue;
            }

            using var document = JsonDocument.Parse(line);
            if (document.RootElement.TryGetProperty("Message", out var message))
            {
                messages.Add(message.GetString() ?? string.Empty);
            }
        }

        return messages;
    }

    private static async Task WaitForLogAsync(GatehouseProcess process, string text)
    {
        var deadline = Stopwatch.StartNew();
        while (!process.StandardError.Contains(text, StringComparison.Ordinal))
        {
            if (deadline.Elapsed > TimeSpan.FromSeconds(20))
            {
                throw new TimeoutException($"no '{text}' in the log:\n{process.StandardError}");
            }

            await Task.Delay(20);
        }
    }

    /// <summary>
    /// The key must not get in: the handshake fails, or (TLS 1.3) the answer is the handshake's 403
    /// (HandshakeRefusal; whoami is 200 to any key let in) or the first read ends.
    /// </summary>
    private static async Task AssertRefusedAsync(IPEndPoint endpoint, X509Certificate2 certificate)
    {
        try
        {
            await using var client = await KeepAliveClient.OpenAsync(endpoint, certificate);
            var status = await client.GetStatusAsync("/_gatehouse/whoami");
            Assert.True(status == 403, $"a refused key got an answer ({status})");
        }
        catch (Exception ex) when (ex is IOException or AuthenticationException or SocketException)
        {
            // refused
        }
    }

    /// <summary>A CA, a server certificate with an encrypted key, a CA-issued laptop and a pinned self-signed phone, and the config.</summary>
    private sealed class ReloadSite : IDisposable
    {
        private ReloadSite(TempDirectory dir, X509Certificate2 ca, X509Certificate2 laptop, X509Certificate2 phone)
        {
            Dir = dir;
            Ca = ca;
            Laptop = laptop;
            Phone = phone;
        }

        public TempDirectory Dir { get; }

        public X509Certificate2 Ca { get; }

        public X509Certificate2 Laptop { get; }

        public X509Certificate2 Phone { get; }

        public string PhonePin => KeyPin.Compute(Phone);

        public string ConfigPath => Dir.File("gatehouse.json");

        /// <summary>Whether the config asks the gateway to watch its files; off where a test reloads explicitly.</summary>
        public bool Watch { get; private init; }

        public static ReloadSite Create(bool watch = false)
        {
            var dir = new TempDirectory();
            var ca = CertificateFactory.CreateCertificateAuthority("reload test CA");
            var site = new ReloadSite(dir, ca, CertificateFactory.IssueClient(ca, "laptop"), CertificateFactory.CreateSelfSignedClient("phone")) { Watch = watch };
            PemFiles.WriteCertificate(dir.File("ca.crt"), ca);
            site.RenewServerCertificate();
            File.WriteAllText(site.ConfigPath, site.Config(pins: true));
            return site;
        }

        /// <summary>Writes a new server certificate and encrypted key (same passphrase) as NAME.crt and NAME.key; returns its pin.</summary>
        public string RenewServerCertificate(string name = "server")
        {
            using var server = CertificateFactory.IssueServer(Ca, "localhost", ["localhost"], [IPAddress.Loopback, IPAddress.IPv6Loopback]);
            // Key first, then the certificate: a reader in between sees a mismatch and keeps the old pair.
            PemFiles.WritePrivateKey(Dir.File(name + ".key"), server.GetECDsaPrivateKey()!, Passphrase);
            PemFiles.WriteCertificate(Dir.File(name + ".crt"), server);
            return KeyPin.Compute(server);
        }

        public string Config(bool pins) => $$"""
            {
              "listen": [ { "address": "127.0.0.1", "port": 0 } ],
              "tls": { "certificate": "server.crt", "key": "server.key" },
              "trust": {
                "cas": [ { "name": "user", "certificate": "ca.crt" } ],
                "pins": [ {{(pins ? $$"""{ "name": "phone", "pin": "{{PhonePin}}" }""" : string.Empty)}} ]
              },
              "limits": { "handshakeTimeout": 5 },
              "reload": { "watch": {{(Watch ? "true" : "false")}} }
            }
            """;

        public void Dispose()
        {
            Ca.Dispose();
            Laptop.Dispose();
            Phone.Dispose();
            Dir.Dispose();
        }
    }
}
