using System.Net;
using System.Text.Json;
using Gatehouse.Config;
using Gatehouse.Http1;
using Gatehouse.Policy;
using Gatehouse.Proxy;
using Gatehouse.Wire;

namespace Gatehouse.Tests;

/// <summary>
/// Issue 20 item 3: the CouchDB route asks the policy in force, an embedding app's included, about
/// what a body raises, never the config's rules behind the app's back. A policy that allows the
/// request but says nothing about design documents keeps them out (closed by default); one that
/// grants design lets them in.
/// </summary>
public sealed class AppPolicyCouchTests
{
    private const string Database = "app-0";

    [Theory]
    [InlineData(false, HttpStatusCode.Forbidden)]
    [InlineData(true, HttpStatusCode.Created)]
    public async Task ADesignDocumentInABulkBodyIsJudgedByTheAppsPolicy(bool grantsDesign, HttpStatusCode expected)
    {
        await using var couch = await PouchDbServer.StartAsync();
        await couch.CreateUserAsync("device", CouchGateway.DevicePassword);
        await couch.CreateDatabaseAsync(Database, "device");
        var security = """{ "admins": { "names": ["device"], "roles": [] }, "members": { "names": ["device"], "roles": [] } }""";
        using (var put = await couch.Admin.PutAsync($"{Database}/_security", PouchDbServer.Json(security)))
        {
            Assert.True(put.IsSuccessStatusCode, await put.Content.ReadAsStringAsync());
        }

        var environment = JsonSerializer.Deserialize(
            $$"""{ "couchdb": { "url": "{{couch.Url}}", "credentials": { "device": { "username": "device", "password": "{{CouchGateway.DevicePassword}}" } } } }""",
            ConfigJsonContext.Default.StdinEnvironment);
        var policy = new WritesOnly(grantsDesign);
        await using var gateway = await InProcessGateway.StartAsync(
            config =>
            {
                config.Routes.Add(new RouteConfig { Kind = "couchdb", Prefix = "/couch/" });
                config.Rules = []; // the config grants nothing: only the app's policy can let anything in
                return config;
            },
            environment: environment,
            options: new Hosting.GatehouseServerOptions { Policy = policy });
        using var device = CertificateFactory.IssueClient(gateway.Ca, "alice-laptop");
        using var http = gateway.CreateClient(device);

        using var response = await http.PostAsync($"/couch/{Database}/_bulk_docs", PouchDbServer.Json("""{"docs":[{"_id":"_design/app"}]}"""));
        Assert.True(response.StatusCode == expected, $"{response.StatusCode}: {await response.Content.ReadAsStringAsync()}");
        using var stored = await couch.Admin.GetAsync($"{Database}/_design/app");
        Assert.Equal(grantsDesign ? HttpStatusCode.OK : HttpStatusCode.NotFound, stored.StatusCode);
        Assert.True(policy.DesignAsked > 0, "the CouchDB route never asked the app's policy about the design document");
    }

    /// <summary>Allows any CouchDB write as role "device"; answers the design question as told.</summary>
    private sealed class WritesOnly(bool grantsDesign) : IAccessPolicy
    {
        public int DesignAsked;

        public AccessDecision Authorize(Principal principal, Request request) =>
            principal.HasKey ? AccessDecision.Allow("device") : AccessDecision.Deny("no key");

        public bool HasCouchGrant(Principal principal, string database, CouchAccess access)
        {
            if (access == CouchAccess.Design)
            {
                Interlocked.Increment(ref DesignAsked);
                return grantsDesign;
            }

            return false;
        }
    }
}
