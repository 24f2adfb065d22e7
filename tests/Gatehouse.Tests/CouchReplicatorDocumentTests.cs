using System.Net;
using System.Security.Cryptography.X509Certificates;
using System.Text.Json;
using Gatehouse.Config;
using Gatehouse.Provenance;
using Gatehouse.Wire;

namespace Gatehouse.Tests;

/// <summary>
/// Issue 23 item 2, <c>_replicator</c> documents, against a real pouchdb-server whose replicator
/// runs them: a key with the <c>replicate</c> grant creates one under the rules of
/// <c>POST /_replicate</c>, reads and deletes only its own (a delete stops the replication), never
/// sees the role's credential; <c>gatehouse grants revoke --apply</c> deletes a revoked key's
/// documents, which stops their replications.
/// </summary>
public sealed class CouchReplicatorDocumentTests : IAsyncLifetime
{
    private InProcessGateway? _gateway;
    private PouchDbServer _couch = null!;
    private X509Certificate2 _alice = null!;
    private X509Certificate2 _bob = null!;
    private X509Certificate2 _plain = null!;

    private string EnvironmentJson => $$"""
        { "couchdb": { "url": "{{_couch.Url}}",
                       "credentials": { "device": { "username": "{{PouchDbServer.AdminName}}", "password": "{{PouchDbServer.AdminPassword}}" },
                                        "provenance": { "username": "{{PouchDbServer.AdminName}}", "password": "{{PouchDbServer.AdminPassword}}" } } } }
        """;

    private string ConfigJson(params string[] denied) => $$"""
        {
          "listen": [ { "address": "::", "port": 0 } ],
          "tls": { "certificate": "server.crt", "key": "server.key" },
          "trust": { "cas": [ { "name": "user", "certificate": "ca.crt" } ],
                     "pins": [ { "name": "bob", "pin": "{{KeyPin.Compute(_bob)}}" }, { "name": "plain", "pin": "{{KeyPin.Compute(_plain)}}" } ],
                     "deny": [ {{string.Join(", ", denied.Select(pin => $"\"{pin}\""))}} ] },
          "routes": [ { "kind": "couchdb", "prefix": "/couch/", "provenance": { "database": "gatehouse-provenance", "role": "provenance" } } ],
          "rules": [
            { "principals": [ "ca:user", "pinned:bob" ], "role": "device",
              "couchdb": { "databases": [ "*" ], "allow": [ "pull", "push", "read", "write", "create", "design", "replicate" ] } },
            { "principals": [ "pinned:bob" ], "role": "device",
              "couchdb": { "databases": [ "media-*" ], "allow": [ "pull", "replicate" ] } },
            { "principals": [ "pinned:plain" ], "role": "device",
              "couchdb": { "databases": [ "*" ], "allow": [ "pull", "push", "read", "write" ] } }
          ]
        }
        """;

    public async Task InitializeAsync()
    {
        _couch = await PouchDbServer.StartAsync(surviveUnhandledRejections: true);
        _bob = CertificateFactory.CreateSelfSignedClient("bob-laptop");
        _plain = CertificateFactory.CreateSelfSignedClient("plain");
        var environment = JsonSerializer.Deserialize(EnvironmentJson, ConfigJsonContext.Default.StdinEnvironment);
        _gateway = await InProcessGateway.StartAsync(environment: environment, configJson: ConfigJson());
        _alice = CertificateFactory.IssueClient(_gateway.Ca, "alice-laptop");
        foreach (var database in new[] { "media-0", "copy-a", "copy-b" })
        {
            using var created = await _couch.Admin.PutAsync(database, null);
            Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        }

        await PutAsync("media-0/doc-1");
    }

    public async Task DisposeAsync()
    {
        if (_gateway is not null)
        {
            await _gateway.DisposeAsync();
        }

        await _couch.DisposeAsync();
        _alice?.Dispose();
        _bob?.Dispose();
        _plain?.Dispose();
    }

    [Fact]
    public async Task AKeyRunsReadsAndStopsItsOwnReplicationDocumentOnly()
    {
        using var alice = _gateway!.CreateClient(_alice);
        using var bob = _gateway.CreateClient(_bob);

        var (created, text) = await SendAsync(alice, "PUT", "/couch/_replicator/alice-job", """{ "_id": "alice-job", "source": "media-0", "target": "copy-a", "continuous": true }""", HttpStatusCode.Created);
        var rev = created.RootElement.GetProperty("rev").GetString();
        Assert.DoesNotContain(PouchDbServer.AdminPassword, text, StringComparison.Ordinal);
        await WaitForAsync("copy-a/doc-1");

        // Stored with the role's credential in the URLs and its creator; shown to its creator as written.
        var stored = await ReadAsync("_replicator/alice-job");
        Assert.Contains(PouchDbServer.AdminPassword, stored.GetProperty("source").GetString(), StringComparison.Ordinal);
        Assert.Equal(KeyPin.Compute(_alice), stored.GetProperty("gatehouse").GetProperty("creator").GetString());
        var (shown, shownText) = await SendAsync(alice, "GET", "/couch/_replicator/alice-job", null, HttpStatusCode.OK);
        Assert.Equal("media-0", shown.RootElement.GetProperty("source").GetString());
        Assert.Equal("copy-a", shown.RootElement.GetProperty("target").GetString());
        Assert.DoesNotContain(PouchDbServer.AdminPassword, shownText, StringComparison.Ordinal);
        Assert.False(shown.RootElement.TryGetProperty("gatehouse", out _), shownText);

        // Another key with the replicate grant neither reads nor deletes it; listings stay closed.
        foreach (var (method, path) in new[] { ("GET", "/couch/_replicator/alice-job"), ("DELETE", $"/couch/_replicator/alice-job?rev={rev}") })
        {
            var (refused, _) = await SendAsync(bob, method, path, null, HttpStatusCode.Forbidden);
            Assert.Contains("was not created by this key", Reason(refused), StringComparison.Ordinal);
        }

        await SendAsync(alice, "GET", "/couch/_replicator/_all_docs", null, HttpStatusCode.Forbidden);
        await SendAsync(alice, "GET", "/couch/_replicator/_design/_replicator", null, HttpStatusCode.Forbidden);

        // Its creator's delete stops it: what is written after the delete is not copied.
        await PutAsync("media-0/doc-2");
        await WaitForAsync("copy-a/doc-2");
        rev = (await ReadAsync("_replicator/alice-job")).GetProperty("_rev").GetString();
        await SendAsync(alice, "DELETE", $"/couch/_replicator/alice-job?rev={rev}", null, HttpStatusCode.OK);
        await PutAsync("media-0/doc-3");
        await PutAsync("media-0/doc-4");
        await AssertNeverArrivesAsync("copy-a/doc-3");
    }

    [Fact]
    public async Task ADocumentIsJudgedAsAReplicationIs()
    {
        using var bob = _gateway!.CreateClient(_bob);
        using var plain = _gateway.CreateClient(_plain);
        foreach (var (body, status, reason) in new[]
        {
            ($$"""{ "source": "{{_couch.Url}}media-0", "target": "copy-b" }""", HttpStatusCode.BadRequest, "not a URL"),
            ("""{ "source": "media-0", "target": "copy-b", "user_ctx": { "name": "admin", "roles": ["_admin"] } }""", HttpStatusCode.BadRequest, "field user_ctx is not accepted"),
            ("""{ "source": "media-0", "target": "copy-b", "cancel": true }""", HttpStatusCode.BadRequest, "cancelled by deleting it"),
            ("""{ "_rev": "1-abc", "source": "media-0", "target": "copy-b" }""", HttpStatusCode.BadRequest, "created once"),
            ("""{ "_id": "other", "source": "media-0", "target": "copy-b" }""", HttpStatusCode.BadRequest, "_id must be the document id"),
            ("""{ "source": "media-0", "target": "gatehouse-provenance" }""", HttpStatusCode.Forbidden, "provenance database"),
            ("""{ "source": { "peer": "laptop", "db": "media-0" }, "target": "copy-b" }""", HttpStatusCode.Forbidden, "no grant of peer link laptop"),
        })
        {
            var (answer, _) = await SendAsync(bob, "PUT", "/couch/_replicator/bob-job", body, status);
            Assert.Contains(reason, Reason(answer), StringComparison.Ordinal);
        }

        await SendAsync(plain, "PUT", "/couch/_replicator/plain-job", """{ "source": "media-0", "target": "copy-b" }""", HttpStatusCode.Forbidden);
        using var none = await _couch.Admin.GetAsync("_replicator/bob-job");
        Assert.Equal(HttpStatusCode.NotFound, none.StatusCode);
    }

    [Fact]
    public async Task RevokingAKeyDeletesItsReplicationDocumentsWhichStopsThem()
    {
        using var alice = _gateway!.CreateClient(_alice);
        using var bob = _gateway.CreateClient(_bob);
        await SendAsync(alice, "PUT", "/couch/_replicator/revoked-job", """{ "source": "media-0", "target": "copy-a", "continuous": true }""", HttpStatusCode.Created);
        await SendAsync(bob, "PUT", "/couch/_replicator/kept-job", """{ "source": "media-0", "target": "copy-b", "continuous": true }""", HttpStatusCode.Created);
        await WaitForAsync("copy-a/doc-1");
        await WaitForAsync("copy-b/doc-1");
        var alicePin = KeyPin.Compute(_alice);
        await WaitForRecordAsync(ProvenanceRecord.IdFor(alicePin, ProvenanceRecord.ReplicatorDocumentKind, "_replicator", "revoked-job"));

        var config = _gateway.Dir.File("revoked.json");
        await File.WriteAllTextAsync(config, ConfigJson(alicePin));
        var result = await GatehouseProcess.RunAsync(EnvironmentJson, "grants", "revoke", alicePin, "--config", config, "--apply");
        Assert.True(result.ExitCode == 0, result.Stderr);
        Assert.Contains("_replicator/revoked-job", result.Stdout, StringComparison.Ordinal);

        using (var gone = await _couch.Admin.GetAsync("_replicator/revoked-job"))
        {
            Assert.Equal(HttpStatusCode.NotFound, gone.StatusCode);
        }

        await ReadAsync("_replicator/kept-job");
        await PutAsync("media-0/after-revoke");
        await WaitForAsync("copy-b/after-revoke");
        await AssertNeverArrivesAsync("copy-a/after-revoke");
    }

    private async Task PutAsync(string path)
    {
        using var response = await _couch.Admin.PutAsync(path, PouchDbServer.Json("""{ "n": 1 }"""));
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
    }

    private async Task<JsonElement> ReadAsync(string path)
    {
        using var response = await _couch.Admin.GetAsync(path);
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, $"{path}: {(int)response.StatusCode} {text}");
        return JsonDocument.Parse(text).RootElement.Clone();
    }

    /// <summary>Polls (bounded) until the replicator copied <paramref name="path"/>.</summary>
    private async Task WaitForAsync(string path)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        while (true)
        {
            using (var response = await _couch.Admin.GetAsync(path))
            {
                if (response.IsSuccessStatusCode)
                {
                    return;
                }
            }

            Assert.True(DateTime.UtcNow < deadline, $"{path} was not replicated within 30 s");
            await Task.Delay(100);
        }
    }

    /// <summary>
    /// An absence can only be checked for a while: 5 s, many times what a running replication
    /// takes here (the copies above arrive within the first polls).
    /// </summary>
    private async Task AssertNeverArrivesAsync(string path)
    {
        var until = DateTime.UtcNow + TimeSpan.FromSeconds(5);
        while (DateTime.UtcNow < until)
        {
            using (var response = await _couch.Admin.GetAsync(path))
            {
                Assert.True(response.StatusCode == HttpStatusCode.NotFound, $"{path} was replicated after its replication was stopped");
            }

            await Task.Delay(200);
        }
    }

    private async Task WaitForRecordAsync(string id)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        while (true)
        {
            using (var response = await _couch.Admin.GetAsync($"gatehouse-provenance/{Uri.EscapeDataString(id)}"))
            {
                if (response.IsSuccessStatusCode)
                {
                    return;
                }
            }

            Assert.True(DateTime.UtcNow < deadline, $"no provenance record {id} within 30 s");
            await Task.Delay(50);
        }
    }

    private static string Reason(JsonDocument answer) => answer.RootElement.GetProperty("reason").GetString() ?? string.Empty;

    private static async Task<(JsonDocument Answer, string Text)> SendAsync(HttpClient http, string method, string path, string? json, HttpStatusCode expected)
    {
        using var request = new HttpRequestMessage(new HttpMethod(method), path) { Content = json is null ? null : PouchDbServer.Json(json) };
        using var response = await http.SendAsync(request);
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == expected, $"{method} {path}: {(int)response.StatusCode} {body}");
        return (JsonDocument.Parse(body.Length == 0 ? "{}" : body), body);
    }
}
