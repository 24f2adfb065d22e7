using System.Diagnostics;
using Gatehouse.Config;

namespace Gatehouse.Tests;

/// <summary>
/// Pound mode (issue 5), access: a real backend (python3 -m http.server) behind a proxy route, reached
/// by curl with a client certificate, with -u user:pass, or from the unrestricted local listener.
/// </summary>
public sealed class FrontAccessTests : IAsyncLifetime
{
    private readonly TempDirectory _site = new();
    private PythonHttpServer? _python;

    public async Task InitializeAsync()
    {
        File.WriteAllText(_site.File("hello.txt"), "hello from python\n");
        Directory.CreateDirectory(_site.File("sub"));
        _python = await PythonHttpServer.StartAsync(_site.Path);
    }

    public Task DisposeAsync()
    {
        _python?.Dispose();
        _site.Dispose();
        return Task.CompletedTask;
    }

    private Task<InProcessGateway> StartAsync(CapturedLogs? logs = null, bool unrestricted = true) => InProcessGateway.StartAsync(
        configJson: FrontConfig.Json(
            $$"""[ { "kind": "proxy", "name": "blog", "match": { "pathPrefix": "/blog/" }, "backend": "http://127.0.0.1:{{_python!.Port}}", "access": { "usersFile": "users.passwd" } } ]""",
            """[ { "principals": [ "ca:user" ], "proxy": [ "blog" ] } ]""",
            unrestricted),
        prepare: FrontConfig.WriteUsers,
        options: logs is null ? null : new Hosting.GatehouseServerOptions { Loggers = logs.Factory });

    [Fact]
    public async Task CurlWithAClientCertificateReachesTheBackendWithThePrefixStripped()
    {
        await using var gateway = await StartAsync();
        var client = ClientPem.Issue(gateway, "alice-laptop");
        var (code, stdout, stderr) = await Curl.RunAsync([.. FrontConfig.CaArgs(gateway), .. client.CurlArgs, FrontConfig.Https(gateway, "/blog/hello.txt")]);
        Assert.True(code == 0, stderr);
        Assert.Equal("hello from python\n", stdout);
    }

    [Fact]
    public async Task CurlWithAPasswordReachesTheBackendWithoutACertificate()
    {
        await using var gateway = await StartAsync();
        var (code, stdout, stderr) = await Curl.RunAsync([.. FrontConfig.CaArgs(gateway), "-u", "alice:" + FrontConfig.Password, FrontConfig.Https(gateway, "/blog/hello.txt")]);
        Assert.True(code == 0, stderr);
        Assert.Equal("hello from python\n", stdout);
    }

    [Fact]
    public async Task TlsListenerRefusesWithoutCertificateOrPasswordWithABasicChallenge()
    {
        await using var gateway = await StartAsync();
        var (_, stdout, _) = await Curl.RunAsync([.. FrontConfig.CaArgs(gateway), "-i", FrontConfig.Https(gateway, "/blog/hello.txt")]);
        Assert.StartsWith("HTTP/1.1 401", stdout);
        Assert.Contains("WWW-Authenticate: Basic realm=\"gatehouse\"", stdout);
        Assert.DoesNotContain("hello from python", stdout);
    }

    [Fact]
    public async Task LocalUnrestrictedListenerServesWithoutCredentialsWhileTlsDoesNot()
    {
        await using var gateway = await StartAsync();
        var (code, stdout, stderr) = await Curl.RunAsync(FrontConfig.Local(gateway, "/blog/hello.txt"));
        Assert.True(code == 0, stderr);
        Assert.Equal("hello from python\n", stdout);

        var (_, tls, _) = await Curl.RunAsync([.. FrontConfig.CaArgs(gateway), "-o", "/dev/null", "-w", "%{http_code}", FrontConfig.Https(gateway, "/blog/hello.txt")]);
        Assert.Equal("401", tls);
    }

    [Fact]
    public async Task LocalListenerThatIsNotUnrestrictedNeedsAGrant()
    {
        await using var gateway = await StartAsync(unrestricted: false);
        var (_, status, _) = await Curl.RunAsync("-o", "/dev/null", "-w", "%{http_code}", FrontConfig.Local(gateway, "/blog/hello.txt"));
        Assert.Equal("403", status); // no Basic on plain HTTP, so no challenge either
    }

    [Fact]
    public async Task WrongPasswordsAreSlowedAndLoggedWithoutThePassword()
    {
        using var logs = new CapturedLogs();
        await using var gateway = await StartAsync(logs);
        string[] wrong = [.. FrontConfig.CaArgs(gateway), "-u", "alice:guess-one", "-o", "/dev/null", "-w", "%{http_code}", FrontConfig.Https(gateway, "/blog/hello.txt")];
        Assert.Equal("401", (await Curl.RunAsync(wrong)).Stdout); // a first typo costs nothing
        Assert.Equal("401", (await Curl.RunAsync(wrong)).Stdout); // the second starts the delay
        var throttled = await Curl.RunAsync([.. FrontConfig.CaArgs(gateway), "-i", "-u", "alice:" + FrontConfig.Password, FrontConfig.Https(gateway, "/blog/hello.txt")]);
        Assert.StartsWith("HTTP/1.1 429", throttled.Stdout); // even the right password waits
        Assert.Contains("Retry-After: 1", throttled.Stdout);

        await Task.Delay(1100);
        var ok = await Curl.RunAsync([.. FrontConfig.CaArgs(gateway), "-u", "alice:" + FrontConfig.Password, FrontConfig.Https(gateway, "/blog/hello.txt")]);
        Assert.Equal("hello from python\n", ok.Stdout);

        Assert.Contains("basic login failed: user=alice", logs.Text);
        Assert.Contains("basic login throttled: user=alice", logs.Text);
        Assert.DoesNotContain("guess-one", logs.Text);
        Assert.DoesNotContain(FrontConfig.Password, logs.Text);
    }

    [Fact]
    public async Task RepeatedLoginsAreCachedNotRehashed()
    {
        await using var gateway = await StartAsync();
        string[] args = [.. FrontConfig.CaArgs(gateway), "-u", "alice:" + FrontConfig.Password, FrontConfig.Https(gateway, "/blog/hello.txt")];
        Assert.Equal("hello from python\n", (await Curl.RunAsync(args)).Stdout);
        var watch = Stopwatch.StartNew();
        for (var i = 0; i < 5; i++)
        {
            Assert.Equal("hello from python\n", (await Curl.RunAsync(args)).Stdout);
        }

        // Five fresh 600,000-round PBKDF2 runs would take seconds on these machines.
        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(5), watch.Elapsed.ToString());
    }

    [Fact]
    public async Task PasswdCommandWritesAHashAndNeverThePassword()
    {
        using var dir = new TempDirectory();
        var file = dir.File("users.passwd");
        var (code, _, stderr) = await GatehouseProcess.RunAsync("s3cret-Passw0rd\n", "passwd", file, "bob");
        Assert.True(code == 0, stderr);
        var text = File.ReadAllText(file);
        Assert.DoesNotContain("s3cret-Passw0rd", text);
        var line = text.Split('\n').Single(l => l.StartsWith("bob:", StringComparison.Ordinal));
        Assert.Matches("^bob:pbkdf2-sha256:600000:[A-Za-z0-9+/=]+:[A-Za-z0-9+/=]+$", line);
        Assert.True(Front.PasswordHash.Parse(line).Verify("s3cret-Passw0rd"));
        if (!OperatingSystem.IsWindows())
        {
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(file));
        }

        // Changing the password replaces the line rather than adding one.
        await GatehouseProcess.RunAsync("another\n", "passwd", file, "bob");
        Assert.Single(File.ReadAllLines(file), l => l.StartsWith("bob:", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("""{ "address": "0.0.0.0", "port": 0, "tls": false, "local": true }""", "loopback")]
    [InlineData("""{ "address": "::", "port": 0, "unrestricted": true }""", "unrestricted")]
    public void MisplacedPlainOrUnrestrictedListenersAreRefusedAtStartup(string listener, string message)
    {
        using var dir = new TempDirectory();
        var json = $$"""{ "listen": [ {{listener}} ], "tls": { "certificate": "s.crt", "key": "s.key" } }""";
        var ex = Assert.Throws<ConfigException>(() => ConfigLoader.Parse(json, dir.File("gatehouse.json")));
        Assert.Contains(message, ex.Message);
    }
}
