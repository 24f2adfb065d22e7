using System.Net;
using System.Security.Cryptography.X509Certificates;
using System.Text.Json;
using Gatehouse.Config;
using Gatehouse.Wire;

namespace Gatehouse.Tests;

/// <summary>
/// Issue 23 item 2 against a real pouchdb-server: <c>POST /_replicate</c> for a key with the
/// <c>replicate</c> grant runs with the role's credential between databases the key may pull from
/// and push to; everything else is refused before CouchDB sees it, and the creator is recorded.
/// </summary>
public sealed class CouchReplicationTests : IAsyncLifetime
{
    private InProcessGateway? _gateway;
    private PouchDbServer _couch = null!;
    private X509Certificate2 _owner = null!;
    private X509Certificate2 _narrow = null!;
    private X509Certificate2 _plain = null!;

    public async Task InitializeAsync()
    {
        _couch = await PouchDbServer.StartAsync();
        _narrow = CertificateFactory.CreateSelfSignedClient("narrow");
        _plain = CertificateFactory.CreateSelfSignedClient("plain");
        var environment = JsonSerializer.Deserialize(
            $$"""{ "couchdb": { "url": "{{_couch.Url}}", "credentials": { "device": { "username": "{{PouchDbServer.AdminName}}", "password": "{{PouchDbServer.AdminPassword}}" }, "provenance": { "username": "{{PouchDbServer.AdminName}}", "password": "{{PouchDbServer.AdminPassword}}" } } } }""",
            ConfigJsonContext.Default.StdinEnvironment);
        _gateway = await InProcessGateway.StartAsync(
            config =>
            {
                config.Trust.Pins.Add(new PinConfig { Name = "narrow", Pin = KeyPin.Compute(_narrow) });
                config.Trust.Pins.Add(new PinConfig { Name = "plain", Pin = KeyPin.Compute(_plain) });
                config.Routes.Add(new RouteConfig { Kind = "couchdb", Prefix = "/couch/" });
                config.Rules =
                [
                    new RuleConfig
                    {
                        Principals = ["ca:user"],
                        Role = "device",
                        Couchdb = new CouchRuleConfig { Databases = ["*"], Allow = ["pull", "push", "read", "write", "create", "design", "replicate"] },
                    },
                    // Replicates out of media-* into backup-* (design documents included) and archive-*
                    // (where it may not write design documents); creates nothing.
                    new RuleConfig
                    {
                        Principals = ["pinned:narrow"],
                        Role = "device",
                        Couchdb = new CouchRuleConfig { Databases = ["media-*"], Allow = ["pull", "replicate"] },
                    },
                    new RuleConfig
                    {
                        Principals = ["pinned:narrow"],
                        Role = "device",
                        Couchdb = new CouchRuleConfig { Databases = ["backup-*"], Allow = ["push", "design", "replicate"] },
                    },
                    new RuleConfig
                    {
                        Principals = ["pinned:narrow"],
                        Role = "device",
                        Couchdb = new CouchRuleConfig { Databases = ["archive-*"], Allow = ["push", "replicate"] },
                    },
                    new RuleConfig
                    {
                        Principals = ["pinned:plain"],
                        Role = "device",
                        Couchdb = new CouchRuleConfig { Databases = ["*"], Allow = ["pull", "push"] },
                    },
                ];
                return config;
            },
            environment: environment);
        _owner = CertificateFactory.IssueClient(_gateway.Ca, "alice-laptop");

        using var owner = _gateway.CreateClient(_owner);
        foreach (var database in new[] { "media-0", "backup-0", "archive-0", "copy-0" })
        {
            await PostAsync(owner, "PUT", $"/couch/{database}", null, HttpStatusCode.Created);
        }

        await PostAsync(owner, "PUT", "/couch/media-0/_design/app", """{ "views": {} }""", HttpStatusCode.Created);
        for (var n = 1; n <= 5; n++)
        {
            await PostAsync(owner, "PUT", $"/couch/media-0/doc-{n}", $$"""{ "n": {{n}} }""", HttpStatusCode.Created);
        }
    }

    public async Task DisposeAsync()
    {
        if (_gateway is not null)
        {
            await _gateway.DisposeAsync();
        }

        await _couch.DisposeAsync();
        _owner?.Dispose();
        _narrow?.Dispose();
        _plain?.Dispose();
    }

    [Fact]
    public async Task TheOwnersKeyReplicatesWithTheRolesCredentialAndIsRecorded()
    {
        using var owner = _gateway!.CreateClient(_owner);
        var (answer, text) = await PostAsync(owner, "POST", "/couch/_replicate", """{ "source": "media-0", "target": "copy-0" }""", HttpStatusCode.OK);
        Assert.True(answer.RootElement.GetProperty("ok").GetBoolean(), text);
        Assert.DoesNotContain(PouchDbServer.AdminPassword, text, StringComparison.Ordinal);

        Assert.Equal(["_design/app", "doc-1", "doc-2", "doc-3", "doc-4", "doc-5"], await IdsAsync("copy-0"));

        // Who started it, in the provenance database, written off the request path.
        var deadline = DateTime.UtcNow.AddSeconds(10);
        var records = string.Empty;
        while (!records.Contains("\"replication\"", StringComparison.Ordinal) && DateTime.UtcNow < deadline)
        {
            using var all = await _couch.Admin.GetAsync("gatehouse-provenance/_all_docs?include_docs=true");
            records = await all.Content.ReadAsStringAsync();
            await Task.Delay(50);
        }

        Assert.Contains("\"Database\":\"copy-0\"", records.Replace(" ", string.Empty, StringComparison.Ordinal), StringComparison.OrdinalIgnoreCase);
        Assert.Contains("from media-0", records, StringComparison.Ordinal);
        Assert.DoesNotContain(PouchDbServer.AdminPassword, records, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ANarrowKeyReplicatesOnlyWhatItsGrantsCover()
    {
        using var narrow = _gateway!.CreateClient(_narrow);

        await PostAsync(narrow, "POST", "/couch/_replicate", """{ "source": "media-0", "target": "backup-0" }""", HttpStatusCode.OK);
        Assert.Equal(["_design/app", "doc-1", "doc-2", "doc-3", "doc-4", "doc-5"], await IdsAsync("backup-0"));

        foreach (var (body, reason) in new[]
        {
            // A replication copies the source's design documents (pouchdb-server ignores doc_ids,
            // so naming plain documents does not keep them out): design is needed on the target.
            ("""{ "source": "media-0", "target": "archive-0", "doc_ids": ["doc-1"] }""", "no design grant on archive-0"),
            ("""{ "source": "backup-0", "target": "media-0" }""", "no pull grant on backup-0"),
            ("""{ "source": "media-0", "target": "copy-0" }""", "target: no replicate grant on copy-0"),
            ("""{ "source": "media-0", "target": "backup-9" }""", "no create grant on backup-9 for this key (the target does not exist)"),
            ("""{ "source": "media-0", "target": "backup-0", "create_target": true }""", "no create grant on backup-0"),
            ("""{ "source": "media-0", "target": "backup-0", "filter": "app/odd" }""", "no query grant on media-0"),
            ("""{ "source": "media-0", "target": "gatehouse-provenance" }""", "provenance database"),
            ("""{ "source": { "peer": "laptop", "db": "media-0" }, "target": "backup-0" }""", "no grant of peer link laptop"),
            ("""{ "source": "media-0", "target": "backup-0", "continuous": true }""", "a continuous replication must be a _replicator document"),
        })
        {
            var (answer, _) = await PostAsync(narrow, "POST", "/couch/_replicate", body, HttpStatusCode.Forbidden);
            Assert.Contains(reason, Reason(answer), StringComparison.Ordinal);
        }

        foreach (var (body, reason) in new[]
        {
            ($$"""{ "source": "{{_couch.Url}}media-0", "target": "backup-0" }""", "not a URL"),
            ("""{ "source": "media-0", "target": "backup-0", "doc_ids": ["doc-1"], "user_ctx": { "name": "admin", "roles": ["_admin"] } }""", "field user_ctx is not accepted"),
        })
        {
            var (answer, _) = await PostAsync(narrow, "POST", "/couch/_replicate", body, HttpStatusCode.BadRequest);
            Assert.Contains(reason, Reason(answer), StringComparison.Ordinal);
        }

        Assert.Empty(await IdsAsync("archive-0"));
        using var notCreated = await _couch.Admin.GetAsync("backup-9");
        Assert.Equal(HttpStatusCode.NotFound, notCreated.StatusCode);
    }

    [Fact]
    public async Task AKeyWithoutTheGrantAndABodyNotJsonAreRefused()
    {
        using var plain = _gateway!.CreateClient(_plain);
        await PostAsync(plain, "POST", "/couch/_replicate", """{ "source": "media-0", "target": "copy-0" }""", HttpStatusCode.Forbidden);

        using var owner = _gateway.CreateClient(_owner);
        using var form = new HttpRequestMessage(HttpMethod.Post, "/couch/_replicate") { Content = new StringContent("source=media-0&target=copy-0", System.Text.Encoding.UTF8, "application/x-www-form-urlencoded") };
        using var formAnswer = await owner.SendAsync(form);
        Assert.Equal(HttpStatusCode.UnsupportedMediaType, formAnswer.StatusCode);

        var big = $$"""{ "source": "media-0", "target": "copy-0", "doc_ids": [{{string.Join(',', Enumerable.Repeat("\"doc-1\"", 9000))}}] }""";
        await PostAsync(owner, "POST", "/couch/_replicate", big, HttpStatusCode.RequestEntityTooLarge);
        await PostAsync(owner, "POST", "/couch/_replicate", "{ \"source\": ", HttpStatusCode.BadRequest);
        await PostAsync(owner, "GET", "/couch/_replicate", null, HttpStatusCode.Forbidden);
        await PostAsync(owner, "GET", "/couch/_replicator/_all_docs", null, HttpStatusCode.Forbidden);
        await PostAsync(plain, "PUT", "/couch/_replicator/job", """{ "source": "media-0", "target": "copy-0" }""", HttpStatusCode.Forbidden);
    }

    private async Task<string[]> IdsAsync(string database)
    {
        using var all = await _couch.Admin.GetAsync($"{database}/_all_docs");
        using var json = JsonDocument.Parse(await all.Content.ReadAsStringAsync());
        return [.. json.RootElement.GetProperty("rows").EnumerateArray().Select(row => row.GetProperty("id").GetString()!).Order(StringComparer.Ordinal)];
    }

    private static string Reason(JsonDocument answer) => answer.RootElement.GetProperty("reason").GetString() ?? string.Empty;

    private static async Task<(JsonDocument Answer, string Text)> PostAsync(HttpClient http, string method, string path, string? json, HttpStatusCode expected)
    {
        using var request = new HttpRequestMessage(new HttpMethod(method), path) { Content = json is null ? null : PouchDbServer.Json(json) };
        using var response = await http.SendAsync(request);
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == expected, $"{method} {path}: {(int)response.StatusCode} {body}");
        return (JsonDocument.Parse(body.Length == 0 ? "{}" : body), body);
    }
}
