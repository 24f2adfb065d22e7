using System.Net;
using System.Text.Json;
using Gatehouse.Config;
using Gatehouse.Wire;

namespace Gatehouse.Tests;

/// <summary>CouchDB dies under a live feed, then comes back: the gateway needs no restart.</summary>
public sealed class CouchRestartTests
{
    [Fact]
    public async Task CouchKilledMidFeedClosesTheClientAndARestartIsServedAtOnce()
    {
        var couch = await StartCouchAsync(0);
        var port = couch.Port;
        try
        {
            var environment = JsonSerializer.Deserialize(
                $$"""{ "couchdb": { "url": "{{couch.Url}}", "credentials": { "device": { "username": "device", "password": "{{CouchGateway.DevicePassword}}" } } } }""",
                ConfigJsonContext.Default.StdinEnvironment);
            await using var gateway = await InProcessGateway.StartAsync(
                config =>
                {
                    config.Routes.Add(new RouteConfig { Kind = "couchdb", Prefix = "/couch/" });
                    config.Rules[0].Couchdb = new CouchRuleConfig { Databases = ["*"], Allow = ["pull", "read"] };
                    return config;
                },
                environment: environment);
            using var device = CertificateFactory.IssueClient(gateway.Ca, "alice-laptop");
            using var http = gateway.CreateClient(device);

            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
            using var feed = await http.GetAsync("/couch/dmedia-0/_changes?feed=continuous&since=now&heartbeat=500", HttpCompletionOption.ResponseHeadersRead, timeout.Token);
            Assert.Equal(HttpStatusCode.OK, feed.StatusCode);
            var stream = await feed.Content.ReadAsStreamAsync(timeout.Token);

            await couch.DisposeAsync();

            // The feed must end (cleanly or with an error) rather than hang or look complete-and-open.
            var buffer = new byte[4096];
            var ended = false;
            try
            {
                while (await stream.ReadAsync(buffer, timeout.Token) > 0)
                {
                }

                ended = true;
            }
            catch (Exception ex) when (ex is IOException or HttpRequestException)
            {
                ended = true;
            }

            Assert.True(ended);

            couch = await StartCouchAsync(port);
            using var after = await http.GetAsync("/couch/dmedia-0", timeout.Token);
            Assert.True(after.StatusCode == HttpStatusCode.OK, await after.Content.ReadAsStringAsync());
        }
        finally
        {
            await couch.DisposeAsync();
        }
    }

    private static async Task<PouchDbServer> StartCouchAsync(int port)
    {
        var couch = await PouchDbServer.StartAsync(port);
        await couch.CreateUserAsync("device", CouchGateway.DevicePassword);
        await couch.CreateDatabaseAsync("dmedia-0", "device");
        return couch;
    }
}
