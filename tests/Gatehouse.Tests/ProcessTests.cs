using System.Text.Json;
using System.Text.Json.Nodes;

namespace Gatehouse.Tests;

/// <summary>The real executable, driven the way a user and their scripts drive it.</summary>
public sealed class ProcessTests
{
    private const int SigTerm = 15;
    private const string Passphrase = TestSecrets.ProcessPassphrase;

    [Fact]
    public async Task InitThenServeWithEncryptedKeyAnswersCurlByCaAndByPin()
    {
        using var dir = new TempDirectory();
        var init = await GatehouseProcess.RunAsync(Passphrase + "\n", "init", dir.Path, "--name", "localhost");
        Assert.True(init.ExitCode == 0, init.Stderr);
        Assert.StartsWith("-----BEGIN ENCRYPTED PRIVATE KEY-----", await File.ReadAllTextAsync(dir.File("server.key")));
        Assert.DoesNotContain(Passphrase, init.Stdout + init.Stderr);

        var serverPin = (await GatehouseProcess.RunAsync(null, "pin", dir.File("server.crt"))).Stdout.Trim();
        var clientPin = (await GatehouseProcess.RunAsync(null, "pin", dir.File("client.crt"))).Stdout.Trim();

        // stdin stays open after the environment: the reader must take one JSON object, not wait for EOF.
        using var gatehouse = GatehouseProcess.Start($$"""{ "keyPassphrase": "{{Passphrase}}" }""", "serve", "--config", dir.File("gatehouse.json"), "--env-stdin");
        var ready = await gatehouse.WaitReadyAsync();
        Assert.True(ready.GetProperty("ready").GetBoolean());
        Assert.Equal(serverPin, ready.GetProperty("pin").GetString());
        var listen = ready.GetProperty("listen")[0];
        Assert.Equal("::", listen.GetProperty("address").GetString());
        var port = listen.GetProperty("port").GetInt32();
        Assert.True(port > 0);

        var url = $"https://localhost:{port}/_gatehouse/whoami";
        var byCa = await Curl.RunAsync("--cacert", dir.File("ca.crt"), "--cert", dir.File("client.crt"), "--key", dir.File("client.key"), "--pass", Passphrase, url);
        Assert.True(byCa.ExitCode == 0, byCa.Stderr);
        using (var whoami = JsonDocument.Parse(byCa.Stdout))
        {
            Assert.Equal(clientPin, whoami.RootElement.GetProperty("pin").GetString());
            Assert.Equal("ca", whoami.RootElement.GetProperty("trust").GetString());
            Assert.Equal("user", whoami.RootElement.GetProperty("trustName").GetString());
        }

        var byPin = await Curl.RunAsync("-k", "--pinnedpubkey", serverPin, "--cert", dir.File("client.crt"), "--key", dir.File("client.key"), "--pass", Passphrase, $"https://127.0.0.1:{port}/_gatehouse/whoami");
        Assert.True(byPin.ExitCode == 0, byPin.Stderr);

        var wrongPin = await Curl.RunAsync("-k", "--pinnedpubkey", clientPin, "--cert", dir.File("client.crt"), "--key", dir.File("client.key"), "--pass", Passphrase, url);
        Assert.Equal(90, wrongPin.ExitCode); // CURLE_SSL_PINNEDPUBKEYNOTMATCH

        // Refused, and told why: over TLS 1.3 (curl's default) a fixed 403 naming the alert (issue 19 item 4).
        var noCertificate = await Curl.RunAsync("--cacert", dir.File("ca.crt"), url);
        Assert.Contains("Refused (TLS alert certificate_required)", noCertificate.Stdout);

        var unknownRoute = await Curl.RunAsync("--cacert", dir.File("ca.crt"), "--cert", dir.File("client.crt"), "--key", dir.File("client.key"), "--pass", Passphrase, "-w", "%{http_code}", $"https://localhost:{port}/nowhere");
        Assert.EndsWith("404", unknownRoute.Stdout);
        Assert.Contains("\"error\":\"not_found\"", unknownRoute.Stdout);

        gatehouse.Signal(SigTerm);
        Assert.Equal(0, await gatehouse.WaitForExitAsync(TimeSpan.FromSeconds(30)));
        Assert.DoesNotContain(Passphrase, gatehouse.StandardError);
    }

    [Fact]
    public async Task LogLinesNameTheBoundPortNotTheConfiguredZero()
    {
        using var dir = new TempDirectory();
        await InitPlainAsync(dir);
        using var gatehouse = GatehouseProcess.Start(null, "serve", "--config", dir.File("gatehouse.json"));
        var port = (await gatehouse.WaitReadyAsync()).GetProperty("listen")[0].GetProperty("port").GetInt32();

        // A client without a certificate is refused; the refusal names the listener it came to.
        var anonymous = await Curl.RunAsync("-k", $"https://localhost:{port}/_gatehouse/whoami");
        Assert.Contains("Refused (TLS alert certificate_required)", anonymous.Stdout);
        gatehouse.Signal(SigTerm);
        Assert.Equal(0, await gatehouse.WaitForExitAsync(TimeSpan.FromSeconds(30)));

        var errors = gatehouse.StandardError;
        Assert.Contains($"listening on [::]:{port} (tls)", errors);
        Assert.Contains($" on [::]:{port}: ", errors); // the refusal (before: "on [::]:0")
        Assert.DoesNotContain("]:0", errors);
    }

    /// <summary>runtime.tlsTuning (issue 20): one startup line says whether the TLS tuning is on; served alike either way.</summary>
    [Theory]
    [InlineData(true, "on: ")]
    [InlineData(false, "off: ")]
    public async Task OneStartupLineSaysWhetherTheTlsTuningIsOn(bool tlsTuning, string said)
    {
        using var dir = new TempDirectory();
        await InitPlainAsync(dir);
        var file = dir.File("gatehouse.json");
        var config = JsonNode.Parse(
            await File.ReadAllTextAsync(file),
            documentOptions: new JsonDocumentOptions { CommentHandling = JsonCommentHandling.Skip, AllowTrailingCommas = true })!.AsObject();
        config["runtime"] = new JsonObject { ["tlsTuning"] = tlsTuning };
        await File.WriteAllTextAsync(file, config.ToJsonString());

        using var gatehouse = GatehouseProcess.Start(null, "serve", "--config", file);
        var port = (await gatehouse.WaitReadyAsync()).GetProperty("listen")[0].GetProperty("port").GetInt32();
        var whoami = await Curl.RunAsync("-k", "--cert", dir.File("client.crt"), "--key", dir.File("client.key"), $"https://localhost:{port}/_gatehouse/whoami");
        Assert.True(whoami.ExitCode == 0, whoami.Stderr);
        using (var principal = JsonDocument.Parse(whoami.Stdout))
        {
            Assert.Equal("user", principal.RootElement.GetProperty("trustName").GetString());
        }

        gatehouse.Signal(SigTerm);
        Assert.Equal(0, await gatehouse.WaitForExitAsync(TimeSpan.FromSeconds(30)));

        var lines = gatehouse.StandardError.Split('\n').Where(l => l.Contains("TLS runtime tuning", StringComparison.Ordinal)).ToList();
        Assert.Contains("TLS runtime tuning (runtime.tlsTuning) " + said, Assert.Single(lines));
    }

    [Fact]
    public async Task MalformedStdinExitsTwoWithAMessage()
    {
        using var dir = new TempDirectory();
        await InitPlainAsync(dir);
        var result = await GatehouseProcess.RunAsync("{ \"keyPassphrase\": ", "serve", "--config", dir.File("gatehouse.json"), "--env-stdin");
        Assert.Equal(2, result.ExitCode);
        Assert.Contains("stdin", result.Stderr);
        Assert.Equal(string.Empty, result.Stdout); // nothing half-started: no ready line
    }

    [Fact]
    public async Task UnknownFieldInStdinExitsTwo()
    {
        using var dir = new TempDirectory();
        await InitPlainAsync(dir);
        var result = await GatehouseProcess.RunAsync("{ \"keyPasphrase\": \"x\" }", "serve", "--config", dir.File("gatehouse.json"), "--env-stdin");
        Assert.Equal(2, result.ExitCode);
        Assert.Contains("keyPasphrase", result.Stderr);
        Assert.DoesNotContain("\"x\"", result.Stderr);
    }

    [Fact]
    public async Task WrongPassphraseExitsTwoNamingTheKeyFile()
    {
        using var dir = new TempDirectory();
        var init = await GatehouseProcess.RunAsync(Passphrase + "\n", "init", dir.Path);
        Assert.Equal(0, init.ExitCode);
        var result = await GatehouseProcess.RunAsync("{ \"keyPassphrase\": \"wrong\" }", "serve", "--config", dir.File("gatehouse.json"), "--env-stdin");
        Assert.Equal(2, result.ExitCode);
        Assert.Contains("server.key", result.Stderr);
        Assert.DoesNotContain("wrong\"", result.Stderr);
    }

    [Fact]
    public async Task MalformedConfigNamesTheFileAndField()
    {
        using var dir = new TempDirectory();
        await InitPlainAsync(dir);
        var text = (await File.ReadAllTextAsync(dir.File("gatehouse.json"))).Replace("\"port\": 0", "\"port\": 70000", StringComparison.Ordinal);
        await File.WriteAllTextAsync(dir.File("gatehouse.json"), text);
        var result = await GatehouseProcess.RunAsync(null, "serve", "--config", dir.File("gatehouse.json"));
        Assert.Equal(2, result.ExitCode);
        Assert.Contains("gatehouse.json", result.Stderr);
        Assert.Contains("$.listen[0].port", result.Stderr);
    }

    [Fact]
    public async Task PlainListenerOnAPublicAddressIsRefusedAtStartup()
    {
        using var dir = new TempDirectory();
        await InitPlainAsync(dir);
        var text = (await File.ReadAllTextAsync(dir.File("gatehouse.json"))).Replace(
            "{ \"address\": \"::\", \"port\": 0, \"tls\": true, \"clientCertificate\": \"required\" }",
            "{ \"address\": \"::\", \"port\": 0, \"tls\": true }, { \"address\": \"0.0.0.0\", \"port\": 0, \"tls\": false, \"local\": true }",
            StringComparison.Ordinal);
        await File.WriteAllTextAsync(dir.File("gatehouse.json"), text);
        var result = await GatehouseProcess.RunAsync(null, "serve", "--config", dir.File("gatehouse.json"));
        Assert.Equal(2, result.ExitCode);
        Assert.Contains("loopback", result.Stderr);
    }

    [Fact]
    public async Task UnknownCommandIsAUsageError()
    {
        var result = await GatehouseProcess.RunAsync(null, "frobnicate");
        Assert.Equal(2, result.ExitCode);
    }

    [Fact]
    public async Task PinMatchesWhatOpensslComputes()
    {
        using var dir = new TempDirectory();
        await InitPlainAsync(dir);
        var ours = (await GatehouseProcess.RunAsync(null, "pin", dir.File("client.crt"))).Stdout.Trim();
        var info = new System.Diagnostics.ProcessStartInfo("bash")
        {
            RedirectStandardOutput = true,
            UseShellExecute = false,
        };
        info.ArgumentList.Add("-c");
        info.ArgumentList.Add($"openssl x509 -in '{dir.File("client.crt")}' -pubkey -noout | openssl pkey -pubin -outform der | openssl dgst -sha256 -binary | base64");
        using var openssl = System.Diagnostics.Process.Start(info)!;
        var expected = "sha256//" + (await openssl.StandardOutput.ReadToEndAsync()).Trim();
        await openssl.WaitForExitAsync();
        Assert.Equal(expected, ours);
    }

    [Fact]
    public async Task InitRefusesToOverwriteAnIdentity()
    {
        using var dir = new TempDirectory();
        await InitPlainAsync(dir);
        var again = await GatehouseProcess.RunAsync(null, "init", dir.Path, "--no-passphrase");
        Assert.Equal(2, again.ExitCode);
        Assert.Contains("refusing to overwrite", again.Stderr);
    }

    [Fact]
    public async Task EveryCommandHasHelp()
    {
        foreach (var command in new[] { "serve", "init", "pin", "version" })
        {
            var result = await GatehouseProcess.RunAsync(null, command, "--help");
            Assert.Equal(0, result.ExitCode);
            Assert.Contains("Usage:", result.Stdout);
        }
    }

    internal static async Task InitPlainAsync(TempDirectory dir)
    {
        var init = await GatehouseProcess.RunAsync(null, "init", dir.Path, "--no-passphrase", "--name", "localhost");
        Assert.True(init.ExitCode == 0, init.Stderr);
    }

    /// <summary>
    /// The client key <see cref="InitPlainAsync"/> made, loaded for a .NET TLS client: re-imported through
    /// PKCS#12, since a key loaded from PEM is ephemeral, which SslStream does not take on every platform.
    /// </summary>
    [Fact]
    public async Task AnEncryptedKeyWithoutStdinAndNonJsonStdinSayWhatIsExpected()
    {
        using var dir = new TempDirectory();
        var init = await GatehouseProcess.RunAsync("a long enough passphrase\n", "init", dir.Path, "--name", "localhost");
        Assert.True(init.ExitCode == 0, init.Stderr);

        var noStdin = await GatehouseProcess.RunAsync(null, "serve", "--config", dir.File("gatehouse.json"));
        Assert.Equal(2, noStdin.ExitCode);
        Assert.Contains("""echo '{"keyPassphrase":"…"}' | gatehouse serve --config""", noStdin.Stderr, StringComparison.Ordinal);

        var notJson = await GatehouseProcess.RunAsync("a long enough passphrase\n", "serve", "--config", dir.File("gatehouse.json"), "--env-stdin");
        Assert.Equal(2, notJson.ExitCode);
        Assert.Contains("""expected one object such as {"keyPassphrase":""", notJson.Stderr, StringComparison.Ordinal);
        Assert.DoesNotContain("a long enough passphrase", notJson.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task InitWarnsOfAShortPassphraseAndStillWorks()
    {
        using var dir = new TempDirectory();
        var (code, _, stderr) = await GatehouseProcess.RunAsync("short\n", "init", dir.Path, "--name", "localhost");
        Assert.True(code == 0, stderr);
        Assert.Contains("warning: the passphrase has 5 characters; 12 or more", stderr, StringComparison.Ordinal);
        Assert.True(File.Exists(dir.File("ca.key")));
    }

    [Theory]
    [InlineData(new[] { "help" }, "serve")]
    [InlineData(new[] { "help", "serve" }, "--env-stdin")]
    public async Task HelpCommandShowsTheHelp(string[] args, string expected)
    {
        var (code, stdout, stderr) = await GatehouseProcess.RunAsync(null, args);
        Assert.True(code == 0, stderr);
        Assert.Contains(expected, stdout, StringComparison.Ordinal);
    }

    internal static System.Security.Cryptography.X509Certificates.X509Certificate2 InitClientCertificate(TempDirectory dir)
    {
        using var pem = System.Security.Cryptography.X509Certificates.X509Certificate2.CreateFromPemFile(dir.File("client.crt"), dir.File("client.key"));
        return System.Security.Cryptography.X509Certificates.X509CertificateLoader.LoadPkcs12(
            pem.Export(System.Security.Cryptography.X509Certificates.X509ContentType.Pkcs12), null);
    }
}
