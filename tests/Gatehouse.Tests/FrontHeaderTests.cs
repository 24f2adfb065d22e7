using System.Net;

namespace Gatehouse.Tests;

/// <summary>
/// Pound mode (issue 5), what the backend sees and what comes back: identity headers that clients
/// cannot forge, Location rewriting, 502 pages, host/regex matching and Unix-socket backends.
/// </summary>
public sealed class FrontHeaderTests
{
    private static Task<InProcessGateway> StartAsync(string routes, string rules = """[ { "principals": [ "ca:user" ], "proxy": [ "app" ] } ]""") =>
        InProcessGateway.StartAsync(configJson: FrontConfig.Json(routes, rules), prepare: FrontConfig.WriteUsers);

    [Fact]
    public async Task SpoofedIdentityHeadersNeverReachTheBackend()
    {
        await using var backend = new RecordingBackend();
        await using var gateway = await StartAsync($$"""
            [ { "kind": "proxy", "name": "app", "prefix": "/app/", "backend": "http://127.0.0.1:{{backend.Port}}",
                "access": { "usersFile": "users.passwd" }, "headers": { "user": "X-Remote-User" } } ]
            """);
        var client = ClientPem.Issue(gateway, "alice-laptop");
        string[] forged = ["-H", "X-Gatehouse-Principal: sha256//forged", "-H", "X-Forwarded-For: 6.6.6.6", "-H", "X-Gatehouse-Subject: CN=root",
            "-H", "X-Remote-User: admin", "-H", "X-Forwarded-Host: evil.example", "-H", "X-Gatehouse-User: admin"];

        var (code, _, stderr) = await Curl.RunAsync([.. FrontConfig.CaArgs(gateway), .. client.CurlArgs, .. forged, FrontConfig.Https(gateway, "/app/x")]);
        Assert.True(code == 0, stderr);
        Assert.Equal([client.Pin], backend.Values("X-Gatehouse-Principal"));
        Assert.Equal(["::1"], backend.Values("X-Forwarded-For").Select(v => v.Replace("127.0.0.1", "::1")).ToList());
        Assert.Single(backend.Values("X-Gatehouse-Subject"), s => s.Contains("alice-laptop"));
        Assert.Equal([$"localhost:{gateway.PortOf(0)}"], backend.Values("X-Forwarded-Host"));
        Assert.Empty(backend.Values("X-Remote-User")); // a certificate caller has no Basic user, and the client's copy is gone
        Assert.Empty(backend.Values("X-Gatehouse-User"));

        // A Basic login: the configured user header carries the login, the client's copy is replaced.
        (code, _, stderr) = await Curl.RunAsync([.. FrontConfig.CaArgs(gateway), "-u", "alice:" + FrontConfig.Password, .. forged, FrontConfig.Https(gateway, "/app/x")]);
        Assert.True(code == 0, stderr);
        Assert.Equal(["alice"], backend.Values("X-Remote-User"));
        Assert.Empty(backend.Values("X-Gatehouse-Principal"));
        Assert.Empty(backend.Values("Authorization")); // the password never reaches the backend
        Assert.DoesNotContain(backend.Heads.Last().Split("\r\n"), line => line.Contains("6.6.6.6") || line.Contains("evil.example") || line.Contains("forged"));
    }

    [Fact]
    public async Task LocationAtTheBackendOriginIsRewrittenToThePublicOrigin()
    {
        var port = 0;
        await using var backend = new RecordingBackend(head => head.Contains("GET /absolute", StringComparison.Ordinal)
            ? $"HTTP/1.1 302 Found\r\nLocation: http://127.0.0.1:{port}/login?next=%2F\r\nContent-Location: http://localhost:{port}/here\r\nContent-Length: 0\r\n\r\n"
            : head.Contains("GET /elsewhere", StringComparison.Ordinal)
                ? "HTTP/1.1 302 Found\r\nLocation: https://example.org/x\r\nContent-Length: 0\r\n\r\n"
                : "HTTP/1.1 301 Moved\r\nLocation: /dir/\r\nContent-Length: 0\r\n\r\n");
        port = backend.Port;
        await using var gateway = await StartAsync($$"""[ { "kind": "proxy", "name": "app", "prefix": "/app/", "backend": "http://127.0.0.1:{{backend.Port}}" } ]""");
        var client = ClientPem.Issue(gateway, "alice-laptop");
        async Task<string> HeadersOf(string path) => (await Curl.RunAsync([.. FrontConfig.CaArgs(gateway), .. client.CurlArgs, "-D", "-", "-o", "/dev/null", FrontConfig.Https(gateway, path)])).Stdout;

        var absolute = await HeadersOf("/app/absolute");
        Assert.Contains($"Location: https://localhost:{gateway.PortOf(0)}/app/login?next=%2F\r\n", absolute);
        Assert.Contains($"Content-Location: https://localhost:{gateway.PortOf(0)}/app/here\r\n", absolute);
        Assert.Contains("Location: /app/dir/\r\n", await HeadersOf("/app/relative"));
        Assert.Contains("Location: https://example.org/x\r\n", await HeadersOf("/app/elsewhere"));
    }

    [Fact]
    public async Task PythonDirectoryRedirectKeepsTheMount()
    {
        using var site = new TempDirectory();
        Directory.CreateDirectory(site.File("sub"));
        using var python = await PythonHttpServer.StartAsync(site.Path);
        await using var gateway = await StartAsync($$"""[ { "kind": "proxy", "name": "app", "prefix": "/app/", "backend": "http://127.0.0.1:{{python.Port}}" } ]""");
        var (_, stdout, _) = await Curl.RunAsync("-D", "-", "-o", "/dev/null", FrontConfig.Local(gateway, "/app/sub"));
        Assert.Contains("Location: /app/sub/\r\n", stdout);
    }

    [Fact]
    public async Task BackendDownIsA502PageForBrowsersAndJsonOtherwiseWithoutDetail()
    {
        var deadPort = FrontPorts.Free();
        await using var gateway = await StartAsync($$"""[ { "kind": "proxy", "name": "app", "prefix": "/app/", "backend": "http://127.0.0.1:{{deadPort}}" } ]""");
        var html = await Curl.RunAsync("-i", "-H", "Accept: text/html,application/xhtml+xml", FrontConfig.Local(gateway, "/app/"));
        Assert.StartsWith("HTTP/1.1 502", html.Stdout);
        Assert.Contains("Content-Type: text/html; charset=utf-8", html.Stdout);
        Assert.Contains("<h1>502 Bad Gateway</h1>", html.Stdout);

        var json = await Curl.RunAsync("-i", FrontConfig.Local(gateway, "/app/"));
        Assert.StartsWith("HTTP/1.1 502", json.Stdout);
        Assert.Contains("Content-Type: application/json", json.Stdout);
        foreach (var answer in new[] { html.Stdout, json.Stdout })
        {
            Assert.DoesNotContain(deadPort.ToString(), answer);
            Assert.DoesNotContain("127.0.0.1", answer);
            Assert.DoesNotContain("refused", answer, StringComparison.OrdinalIgnoreCase);
        }
    }

    [Fact]
    public async Task HostAndRegexRoutesMatchInOrderAndRegexRoutesKeepThePath()
    {
        await using var byHost = new RecordingBackend(_ => "HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\nhost");
        await using var byRegex = new RecordingBackend(_ => "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nregex", ipv6: true);
        await using var gateway = await StartAsync($$"""
            [ { "kind": "proxy", "name": "h", "match": { "host": "blog.example" }, "backend": "http://127.0.0.1:{{byHost.Port}}", "access": { "local": true } },
              { "kind": "proxy", "name": "r", "match": { "pathRegex": "^/notes/[0-9]+$" }, "backend": "http://[::1]:{{byRegex.Port}}", "access": { "local": true } } ]
            """, "[]");
        Assert.Equal("host", (await Curl.RunAsync("-H", "Host: blog.example:8080", FrontConfig.Local(gateway, "/notes/1"))).Stdout);
        Assert.Equal("regex", (await Curl.RunAsync(FrontConfig.Local(gateway, "/notes/42"))).Stdout);
        Assert.StartsWith("GET /notes/42 HTTP/1.1", byRegex.Heads.Last());
        Assert.Contains("404", (await Curl.RunAsync("-o", "/dev/null", "-w", "%{http_code}", FrontConfig.Local(gateway, "/notes/x"))).Stdout);
    }

    [Fact]
    public async Task UnixSocketBackendsWork()
    {
        using var dir = new TempDirectory();
        var socket = dir.File("app.sock");
        await using var backend = new RecordingBackend(unixPath: socket);
        await using var gateway = await StartAsync($$"""[ { "kind": "proxy", "name": "app", "prefix": "/app/", "stripPrefix": false, "backend": "unix:{{socket}}" } ]""");
        var (code, stdout, stderr) = await Curl.RunAsync(FrontConfig.Local(gateway, "/app/page"));
        Assert.True(code == 0, stderr);
        Assert.Equal("ok", stdout);
        Assert.StartsWith("GET /app/page HTTP/1.1", backend.Heads.Last()); // stripPrefix: false keeps the mount
        Assert.Equal(["localhost"], backend.Values("Host"));
    }
}
