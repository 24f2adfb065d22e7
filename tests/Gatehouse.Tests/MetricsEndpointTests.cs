using System.Net;
using System.Net.Http;
using Gatehouse.Wire;

namespace Gatehouse.Tests;

/// <summary>GET /_gatehouse/metrics: Prometheus text for the local user and admin principals only.</summary>
public sealed class MetricsEndpointTests
{
    private const string Config = """
        {
          "listen": [
            { "address": "::", "port": 0 },
            { "address": "127.0.0.1", "port": 0, "tls": false, "local": true }
          ],
          "tls": { "certificate": "server.crt", "key": "server.key" },
          "trust": { "cas": [ { "name": "user", "certificate": "ca.crt" } ] },
          "routes": [ { "kind": "files", "prefix": "/files/", "stores": [ "store" ] } ],
          "rules": [ { "principals": [ "ca:user" ], "files": [ "read" ] } ]
        }
        """;

    [Fact]
    public async Task LocalUserScrapesRequestCountsAfterTraffic()
    {
        await using var gateway = await InProcessGateway.StartAsync(configJson: Config);
        using var alice = CertificateFactory.IssueClient(gateway.Ca, "alice-laptop");
        using (var https = gateway.CreateClient(alice))
        {
            using var whoami = await https.GetAsync("/_gatehouse/whoami");
            Assert.Equal(HttpStatusCode.OK, whoami.StatusCode);
        }

        using var local = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{gateway.PortOf(1)}/") };
        var deadline = DateTime.UtcNow.AddSeconds(10);
        string text;
        do
        {
            using var scrape = await local.GetAsync("/_gatehouse/metrics");
            Assert.Equal(HttpStatusCode.OK, scrape.StatusCode);
            Assert.Equal("text/plain; version=0.0.4; charset=utf-8", scrape.Content.Headers.ContentType?.ToString());
            text = await scrape.Content.ReadAsStringAsync();
        }
        while (PrometheusSamples.Sample(text, "gatehouse_requests_total", "{status_class=\"2xx\"}") <= 0 && DateTime.UtcNow < deadline);

        Assert.True(PrometheusSamples.Sample(text, "gatehouse_requests_total", "{status_class=\"2xx\"}") > 0, text);
        Assert.Contains("# TYPE gatehouse_requests_total counter\n", text);
        Assert.Contains("# HELP gatehouse_requests_total ", text);
        Assert.Contains("# TYPE gatehouse_connections_open gauge\n", text);
        Assert.DoesNotContain("gatehouse.requests", text); // dots never reach Prometheus names

        // The runtime's own meter: managed heap, committed memory and JIT, to tell them from native growth.
        Assert.True(PrometheusSamples.Sample(text, "dotnet_gc_last_collection_memory_committed_size", string.Empty) > 0, text);
        Assert.True(PrometheusSamples.Sample(text, "dotnet_gc_heap_total_allocated_total", string.Empty) > 0, text);
        Assert.True(PrometheusSamples.Sample(text, "dotnet_jit_compiled_il_size_total", string.Empty) > 0, text);
        Assert.Contains("dotnet_gc_last_collection_heap_size{gc_heap_generation=\"gen2\"} ", text);
    }

    [Fact]
    public async Task RemotePrincipalNeedsAnAdminRule()
    {
        // Operators' keys come from a second CA, trusted as "ca:ops" and granted admin only.
        using var opsCa = CertificateFactory.CreateCertificateAuthority("ops CA");
        using var operatorKey = CertificateFactory.IssueClient(opsCa, "ops-console");
        var config = Config
            .Replace("""{ "name": "user", "certificate": "ca.crt" } ]""", """{ "name": "user", "certificate": "ca.crt" }, { "name": "ops", "certificate": "ops-ca.crt" } ]""", StringComparison.Ordinal)
            .Replace("""[ { "principals": [ "ca:user" ], "files": [ "read" ] } ]""", """[ { "principals": [ "ca:user" ], "files": [ "read" ] }, { "principals": [ "ca:ops" ], "admin": true } ]""", StringComparison.Ordinal);
        await using var gateway = await InProcessGateway.StartAsync(configJson: config, prepare: dir => PemFiles.WriteCertificate(dir.File("ops-ca.crt"), opsCa));

        using var alice = CertificateFactory.IssueClient(gateway.Ca, "alice-laptop");
        using (var https = gateway.CreateClient(alice))
        {
            using var refused = await https.GetAsync("/_gatehouse/metrics");
            Assert.Equal(HttpStatusCode.Forbidden, refused.StatusCode);
            Assert.DoesNotContain("gatehouse_", await refused.Content.ReadAsStringAsync());
        }

        using (var https = gateway.CreateClient(operatorKey))
        {
            using var scrape = await https.GetAsync("/_gatehouse/metrics");
            Assert.Equal(HttpStatusCode.OK, scrape.StatusCode);
            Assert.Contains("# TYPE gatehouse_requests_total counter", await scrape.Content.ReadAsStringAsync());

            using var post = await https.PostAsync("/_gatehouse/metrics", new StringContent("x"));
            Assert.Equal(HttpStatusCode.MethodNotAllowed, post.StatusCode);
        }
    }
}
