using System.Net;
using System.Net.Http;
using Gatehouse.Hosting;

namespace Gatehouse.Tests;

/// <summary>
/// Issue 11: after traffic through proxied routes, /_gatehouse/metrics shows requests by route name
/// and status class, the upstream pool (connects, connect failures, idle connections) and reloads.
/// Route names and backend ports are this test's own, so tests running alongside cannot move them.
/// </summary>
public sealed class RouteMetricsScrapeTests
{
    [Fact]
    public async Task ScrapeShowsRoutesUpstreamPoolAndReloadsAfterProxiedTraffic()
    {
        await using var backend = new RecordingBackend();
        var deadPort = FrontPorts.Free(); // closed again: connecting is refused
        var routes = $$"""
            [ { "kind": "proxy", "name": "metrics-app", "match": { "pathPrefix": "/app/" }, "backend": "http://127.0.0.1:{{backend.Port}}" },
              { "kind": "proxy", "name": "metrics-gone", "match": { "pathPrefix": "/gone/" }, "backend": "http://127.0.0.1:{{deadPort}}" } ]
            """;
        await using var gateway = await InProcessGateway.StartAsync(configJson: FrontConfig.Json(routes));
        using var local = new HttpClient { BaseAddress = new Uri(FrontConfig.Local(gateway, "/")) };
        var before = await ScrapeAsync(local);

        for (var i = 0; i < 3; i++)
        {
            using var ok = await local.GetAsync("/app/page?token=not-in-metrics");
            Assert.Equal(HttpStatusCode.OK, ok.StatusCode);
        }

        using (var gone = await local.GetAsync("/gone/x"))
        {
            Assert.Equal(HttpStatusCode.BadGateway, gone.StatusCode);
        }

        using (var none = await local.GetAsync("/nowhere"))
        {
            Assert.Equal(HttpStatusCode.NotFound, none.StatusCode);
        }

        // One reload that fails (this server was not made from a file) and one that succeeds.
        Assert.False((await gateway.Server.ReloadAsync()).Succeeded);
        await using (var fromFile = GatehouseServer.CreateFromFile(gateway.Dir.File("gatehouse.json"), null, TestLogFile.Options()))
        {
            Assert.True((await fromFile.ReloadAsync()).Succeeded);
        }

        var app = $"{{upstream=\"http://127.0.0.1:{backend.Port}/\"}}";
        string text;
        var deadline = DateTime.UtcNow.AddSeconds(30);
        do
        {
            // The last answer is counted as it goes out, and its connection returns to the pool just after.
            text = await ScrapeAsync(local);
        }
        while ((PrometheusSamples.Sample(text, "gatehouse_upstream_pool_idle", app) < 1 || PrometheusSamples.Sample(text, "gatehouse_route_requests_total", "{route=\"(none)\",status_class=\"4xx\"}") < 1)
            && DateTime.UtcNow < deadline);

        Assert.Equal(3, PrometheusSamples.Sample(text, "gatehouse_route_requests_total", "{route=\"metrics-app\",status_class=\"2xx\"}"));
        Assert.Equal(1, PrometheusSamples.Sample(text, "gatehouse_route_requests_total", "{route=\"metrics-gone\",status_class=\"5xx\"}"));
        Assert.True(PrometheusSamples.Sample(text, "gatehouse_route_requests_total", "{route=\"(none)\",status_class=\"4xx\"}") >= 1, text);
        Assert.True(PrometheusSamples.Sample(text, "gatehouse_route_requests_total", "{route=\"(gatehouse)\",status_class=\"2xx\"}") >= 1, text);
        Assert.DoesNotContain("/app/page", text); // a route's name, never a path
        Assert.DoesNotContain("not-in-metrics", text);

        Assert.Equal(1, PrometheusSamples.Sample(text, "gatehouse_upstream_connects_total", app));
        Assert.Equal(1, PrometheusSamples.Sample(text, "gatehouse_upstream_pool_idle", app));
        Assert.Equal(0, PrometheusSamples.Sample(text, "gatehouse_upstream_pool_in_use", app));
        Assert.Equal(1, PrometheusSamples.Sample(text, "gatehouse_upstream_pool_connections", app));
        Assert.Equal(1, PrometheusSamples.Sample(text, "gatehouse_upstream_connect_failures_total", $"{{reason=\"refused\",upstream=\"http://127.0.0.1:{deadPort}/\"}}"));
        Assert.Contains("# TYPE gatehouse_upstream_pool_wait_duration summary\n", text);
        Assert.Contains("# TYPE gatehouse_upstream_pool_waits_total counter\n", text);

        Assert.True(PrometheusSamples.Sample(text, "gatehouse_reloads_total", "{result=\"failed\"}") >= PrometheusSamples.Sample(before, "gatehouse_reloads_total", "{result=\"failed\"}") + 1, text);
        Assert.True(PrometheusSamples.Sample(text, "gatehouse_reloads_total", "{result=\"ok\"}") >= PrometheusSamples.Sample(before, "gatehouse_reloads_total", "{result=\"ok\"}") + 1, text);
    }

    private static async Task<string> ScrapeAsync(HttpClient local)
    {
        using var scrape = await local.GetAsync("/_gatehouse/metrics");
        Assert.Equal(HttpStatusCode.OK, scrape.StatusCode);
        return await scrape.Content.ReadAsStringAsync();
    }
}
