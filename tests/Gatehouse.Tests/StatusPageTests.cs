using System.Net;
using System.Net.Sockets;
using Gatehouse.Config;
using Gatehouse.Wire;

namespace Gatehouse.Tests;

/// <summary>
/// Issue 19 item 5: <c>/_gatehouse/</c> is a page a person can read — pin, listeners, who is
/// connected, routes and who may use them, recent refusals with reasons — and
/// <c>gatehouse status</c> prints the same in a terminal.
/// </summary>
public sealed class StatusPageTests
{
    [Fact]
    public async Task TheLocalUserReadsWhoIsConnectedWhoMayUseWhatAndWhyOthersWereRefused()
    {
        var port = FreePort();
        await using var gateway = await InProcessGateway.StartAsync(configJson: $$"""
            {
              "listen": [ { "address": "::", "port": 0 }, { "address": "127.0.0.1", "port": {{port}}, "tls": false, "local": true } ],
              "tls": { "certificate": "server.crt", "key": "server.key" },
              "trust": { "cas": [ { "name": "user", "certificate": "ca.crt" } ] },
              "routes": [ { "kind": "files", "prefix": "/files/", "stores": [ "store" ] } ],
              "rules": [ { "principals": [ "ca:user" ], "role": "device", "files": [ "read" ] } ]
            }
            """);
        using var device = CertificateFactory.IssueClient(gateway.Ca, "alice-laptop");
        using var tls = gateway.CreateClient(device);
        using (var refused = await tls.PutAsync("/files/" + new string('a', 64), new StringContent("x")))
        {
            Assert.Equal(HttpStatusCode.Forbidden, refused.StatusCode);
        }

        using (var missing = await tls.GetAsync("/nothing-here%3Cb%3Ebold%3C%2Fb%3E"))
        {
            Assert.Equal(HttpStatusCode.NotFound, missing.StatusCode);
        }

        // A refusal is recorded after its answer is sent: one more request on the same keep-alive
        // connection is served only once the one before it has finished, record included.
        using (var after = await tls.GetAsync("/_gatehouse/whoami"))
        {
            Assert.Equal(HttpStatusCode.OK, after.StatusCode);
        }

        using var local = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}/") };
        using var page = await local.GetAsync("/_gatehouse/");
        Assert.Equal(HttpStatusCode.OK, page.StatusCode);
        Assert.Equal("text/html", page.Content.Headers.ContentType?.MediaType);
        Assert.Contains("default-src 'none'", page.Headers.GetValues("Content-Security-Policy").Single(), StringComparison.Ordinal);
        var html = await page.Content.ReadAsStringAsync();
        Assert.Contains(gateway.Server.Pin, html, StringComparison.Ordinal);
        Assert.Contains(KeyPin.Compute(device), html, StringComparison.Ordinal);
        Assert.Contains("ca:user: files read", html, StringComparison.Ordinal);
        Assert.Contains("no files write grant for this key", html, StringComparison.Ordinal);
        Assert.Contains("no route", html, StringComparison.Ordinal);
        Assert.DoesNotContain("<b>bold", html, StringComparison.Ordinal);
        Assert.DoesNotContain("<script", html, StringComparison.OrdinalIgnoreCase);
        await File.WriteAllTextAsync(Path.Combine(Directory.CreateDirectory(Path.Combine(PouchDbServer.RepositoryRoot, ".run", "status")).FullName, "status.html"), html);

        // A key without admin sees none of it.
        using var forbidden = await tls.GetAsync("/_gatehouse/");
        Assert.Equal(HttpStatusCode.Forbidden, forbidden.StatusCode);

        var (exitCode, stdout, stderr) = await GatehouseProcess.RunAsync(null, "status", "--config", gateway.Dir.File("gatehouse.json"));
        Assert.True(exitCode == 0, stderr);
        Assert.Contains("gatehouse " + gateway.Server.Pin, stdout, StringComparison.Ordinal);
        Assert.Contains("/files/ (files)", stdout, StringComparison.Ordinal);
        Assert.Contains("ca:user: files read", stdout, StringComparison.Ordinal);
        Assert.Contains("PUT /files/", stdout, StringComparison.Ordinal);
        Assert.Contains("403  no files write grant for this key", stdout, StringComparison.Ordinal);
    }

    [Fact]
    public async Task StatusSaysWhatToFixWhenItCannotAsk()
    {
        using var dir = new TempDirectory();
        var noLoopback = dir.File("no-loopback.json");
        await File.WriteAllTextAsync(noLoopback, """{ "listen": [ { "address": "::", "port": 8443 } ], "tls": { "certificate": "a.crt", "key": "a.key" } }""");
        var (exitCode, _, stderr) = await GatehouseProcess.RunAsync(null, "status", "--config", noLoopback);
        Assert.Equal(2, exitCode);
        Assert.Contains("no plain loopback listener", stderr, StringComparison.Ordinal);

        var notRunning = dir.File("not-running.json");
        await File.WriteAllTextAsync(notRunning, $$"""{ "listen": [ { "address": "127.0.0.1", "port": {{FreePort()}}, "tls": false, "local": true } ] }""");
        (exitCode, _, stderr) = await GatehouseProcess.RunAsync(null, "status", "--config", notRunning);
        Assert.Equal(1, exitCode);
        Assert.Contains("is `gatehouse serve` running", stderr, StringComparison.Ordinal);
    }

    private static int FreePort()
    {
        using var probe = new TcpListener(IPAddress.Loopback, 0);
        probe.Start();
        return ((IPEndPoint)probe.LocalEndpoint).Port;
    }
}
