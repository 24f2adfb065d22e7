using System.Net;
using System.Security.Cryptography.X509Certificates;
using System.Text.Json;
using Gatehouse.Config;
using Gatehouse.Wire;

namespace Gatehouse.Tests;

/// <summary>
/// Issue 23 item 1 against a real pouchdb-server: a device's own key granted query, delete and
/// maintain runs views, design filters, Mango, compaction and DELETE /db through the gate; a
/// replication-only key on the same databases gets 403 for each, from the gateway (both roles use
/// the same CouchDB credential, so every refusal here is the gateway's).
/// </summary>
public sealed class CouchGrantClassesTests : IAsyncLifetime
{
    private const string Design = """{ "views": { "by": { "map": "function (doc) { if (doc.n) { emit(doc.n, null); } }" } }, "filters": { "odd": "function (doc, req) { return doc.n % 2 === 1; }" } }""";

    private InProcessGateway? _gateway;
    private PouchDbServer _couch = null!;
    private X509Certificate2 _owner = null!;
    private X509Certificate2 _replicator = null!;

    public async Task InitializeAsync()
    {
        _couch = await PouchDbServer.StartAsync();
        _replicator = CertificateFactory.CreateSelfSignedClient("replicator");
        var environment = JsonSerializer.Deserialize(
            $$"""{ "couchdb": { "url": "{{_couch.Url}}", "credentials": { "owner": { "username": "{{PouchDbServer.AdminName}}", "password": "{{PouchDbServer.AdminPassword}}" } } } }""",
            ConfigJsonContext.Default.StdinEnvironment);
        _gateway = await InProcessGateway.StartAsync(
            config =>
            {
                config.Trust.Pins.Add(new PinConfig { Name = "replicator", Pin = KeyPin.Compute(_replicator) });
                config.Routes.Add(new RouteConfig { Kind = "couchdb", Prefix = "/couch/" });
                config.Rules =
                [
                    new RuleConfig
                    {
                        Principals = ["ca:user"],
                        Role = "owner",
                        Couchdb = new CouchRuleConfig { Databases = ["*"], Allow = ["pull", "push", "read", "write", "create", "design", "query", "delete", "maintain"] },
                    },
                    new RuleConfig
                    {
                        Principals = ["pinned:replicator"],
                        Role = "owner",
                        Couchdb = new CouchRuleConfig { Databases = ["*"], Allow = ["pull", "push"] },
                    },
                ];
                return config;
            },
            environment: environment);
        _owner = CertificateFactory.IssueClient(_gateway.Ca, "alice-laptop");
    }

    public async Task DisposeAsync()
    {
        if (_gateway is not null)
        {
            await _gateway.DisposeAsync();
        }

        await _couch.DisposeAsync();
        _owner?.Dispose();
        _replicator?.Dispose();
    }

    [Fact]
    public async Task TheOwnersKeyRunsItsOwnViewsFiltersAndMaintenance()
    {
        using var owner = _gateway!.CreateClient(_owner);
        await ExpectAsync(owner, HttpMethod.Put, "/couch/own-0", null, HttpStatusCode.Created);
        await ExpectAsync(owner, HttpMethod.Put, "/couch/own-0/_design/app", Design, HttpStatusCode.Created);
        for (var n = 1; n <= 4; n++)
        {
            await ExpectAsync(owner, HttpMethod.Put, $"/couch/own-0/doc-{n}", $$"""{ "n": {{n}} }""", HttpStatusCode.Created);
        }

        var view = await ExpectAsync(owner, HttpMethod.Get, "/couch/own-0/_design/app/_view/by?startkey=2&endkey=3&reduce=false", null, HttpStatusCode.OK);
        Assert.Equal(["doc-2", "doc-3"], Rows(view, "rows").Select(row => row.GetProperty("id").GetString()));

        var filtered = await ExpectAsync(owner, HttpMethod.Get, "/couch/own-0/_changes?filter=app/odd&mine=passed-to-the-filter", null, HttpStatusCode.OK);
        Assert.Equal(["doc-1", "doc-3"], Rows(filtered, "results").Select(row => row.GetProperty("id").GetString()).Order());

        var viewFiltered = await ExpectAsync(owner, HttpMethod.Get, "/couch/own-0/_changes?filter=_view&view=app/by", null, HttpStatusCode.OK);
        Assert.Equal(4, Rows(viewFiltered, "results").Count());

        await ExpectAsync(owner, HttpMethod.Post, "/couch/own-0/_compact", "{}", HttpStatusCode.Accepted);

        await ExpectAsync(owner, HttpMethod.Put, "/couch/own-0/_local/checkpoint", """{ "last": 1 }""", HttpStatusCode.Created);
        await ExpectAsync(owner, HttpMethod.Get, "/couch/own-0/_local/checkpoint/att.txt", null, HttpStatusCode.NotFound);
        var local = await ExpectAsync(owner, HttpMethod.Get, "/couch/own-0/_local/checkpoint", null, HttpStatusCode.OK);
        await ExpectAsync(owner, HttpMethod.Delete, $"/couch/own-0/_local/checkpoint?rev={local.RootElement.GetProperty("_rev").GetString()}", null, HttpStatusCode.OK);

        await ExpectAsync(owner, HttpMethod.Delete, "/couch/own-0", null, HttpStatusCode.OK);
        using var gone = await _couch.Admin.GetAsync("own-0");
        Assert.Equal(HttpStatusCode.NotFound, gone.StatusCode);
    }

    [Fact]
    public async Task AReplicationKeyGetsNoneOfThemButCleansItsCheckpoints()
    {
        using (var owner = _gateway!.CreateClient(_owner))
        {
            await ExpectAsync(owner, HttpMethod.Put, "/couch/shared-0", null, HttpStatusCode.Created);
            await ExpectAsync(owner, HttpMethod.Put, "/couch/shared-0/_design/app", Design, HttpStatusCode.Created);
        }

        using var replicator = _gateway.CreateClient(_replicator);
        foreach (var (method, path) in new[]
        {
            (HttpMethod.Get, "/couch/shared-0/_design/app/_view/by"),
            (HttpMethod.Get, "/couch/shared-0/_changes?filter=app/odd"),
            (HttpMethod.Get, "/couch/shared-0/_changes?filter=_view&view=app/by"),
            (HttpMethod.Post, "/couch/shared-0/_find"),
            (HttpMethod.Post, "/couch/shared-0/_compact"),
            (HttpMethod.Post, "/couch/shared-0/_view_cleanup"),
            (HttpMethod.Delete, "/couch/shared-0"),
        })
        {
            var refusal = await ExpectAsync(replicator, method, path, method == HttpMethod.Post ? "{}" : null, HttpStatusCode.Forbidden);
            Assert.Contains("grant", refusal.RootElement.GetProperty("reason").GetString(), StringComparison.Ordinal);
        }

        await ExpectAsync(replicator, HttpMethod.Put, "/couch/shared-0/_local/replication-id", """{ "session": 1 }""", HttpStatusCode.Created);
        var local = await ExpectAsync(replicator, HttpMethod.Get, "/couch/shared-0/_local/replication-id", null, HttpStatusCode.OK);
        await ExpectAsync(replicator, HttpMethod.Delete, $"/couch/shared-0/_local/replication-id?rev={local.RootElement.GetProperty("_rev").GetString()}", null, HttpStatusCode.OK);
        using var stillThere = await _couch.Admin.GetAsync("shared-0");
        Assert.Equal(HttpStatusCode.OK, stillThere.StatusCode);
    }

    private static IEnumerable<JsonElement> Rows(JsonDocument document, string name) => document.RootElement.GetProperty(name).EnumerateArray();

    private static async Task<JsonDocument> ExpectAsync(HttpClient http, HttpMethod method, string path, string? json, HttpStatusCode expected)
    {
        using var request = new HttpRequestMessage(method, path) { Content = json is null ? null : PouchDbServer.Json(json) };
        using var response = await http.SendAsync(request);
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == expected, $"{method} {path}: {(int)response.StatusCode} {body}");
        return JsonDocument.Parse(body.Length == 0 ? "{}" : body);
    }
}
