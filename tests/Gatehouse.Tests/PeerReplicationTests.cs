using System.Diagnostics;
using System.Net;
using System.Text.Json;
using Gatehouse.Config;

namespace Gatehouse.Tests;

/// <summary>
/// Real PouchDB on device A replicating with B's CouchDB (pouchdb-server) through A's loopback
/// peer link (issue 8): the replicator speaks plain HTTP to 127.0.0.1 and has no certificate.
/// </summary>
public sealed class PeerReplicationTests
{
    private const string PeerPassword = TestSecrets.PeerLinkCouchPassword;

    [Fact]
    public async Task PushAndPullThroughThePeerLinkLandEveryDocumentInBsCouch()
    {
        await using var couch = await PouchDbServer.StartAsync();
        await couch.CreateUserAsync("peer", PeerPassword);
        await couch.CreateDatabaseAsync("project-db", "peer");
        await couch.CreateDatabaseAsync("secret-db", "peer");
        await using var devices = await PeerDevices.StartAsync(editB: GrantProjects, environmentB: Environment(couch));
        var url = $"http://127.0.0.1:{devices.ALoopbackPort}/_peers/B/couch/";

        var push = await ReplicateAsync(url + "project-db", "push", 20);
        Assert.True(push.GetProperty("ok").GetBoolean(), push.ToString());
        Assert.Equal(21, push.GetProperty("docs_written").GetInt32());

        using (var all = await couch.Admin.GetAsync("project-db/_all_docs"))
        {
            using var json = JsonDocument.Parse(await all.Content.ReadAsStringAsync());
            Assert.Equal(21, json.RootElement.GetProperty("total_rows").GetInt32());
        }

        using (var attachment = await couch.Admin.GetAsync("project-db/with-attachment/note.txt"))
        {
            Assert.Equal(HttpStatusCode.OK, attachment.StatusCode);
            Assert.Equal("through the peer link", await attachment.Content.ReadAsStringAsync());
        }

        var pull = await ReplicateAsync(url + "project-db", "pull", 0);
        Assert.True(pull.GetProperty("ok").GetBoolean(), pull.ToString());
        Assert.Equal(21, pull.GetProperty("docs_written").GetInt32());

        // B's rule does not name secret-db: B's own 403 reaches the replicator.
        var refused = await ReplicateAsync(url + "secret-db", "pull", 0);
        Assert.False(refused.GetProperty("ok").GetBoolean(), refused.ToString());
        Assert.Equal(403, refused.GetProperty("status").GetInt32());
    }

    [Fact]
    public async Task ContinuousReplicationThroughThePeerLinkKeepsUpWithNewWrites()
    {
        await using var couch = await PouchDbServer.StartAsync();
        await couch.CreateUserAsync("peer", PeerPassword);
        await couch.CreateDatabaseAsync("project-live", "peer");
        await using var devices = await PeerDevices.StartAsync(editB: GrantProjects, environmentB: Environment(couch));
        var url = $"http://127.0.0.1:{devices.ALoopbackPort}/_peers/B/couch/project-live";
        var id = "written-later-" + Guid.NewGuid().ToString("N");

        using var live = StartNode(url, "live", id);
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        Assert.Equal("ready", await live.StandardOutput.ReadLineAsync(timeout.Token));

        using (var put = await couch.Admin.PutAsync($"project-live/{id}", PouchDbServer.Json("{ \"late\": true }")))
        {
            Assert.True(put.IsSuccessStatusCode);
        }

        var seen = await live.StandardOutput.ReadLineAsync(timeout.Token);
        try
        {
            Assert.Contains(id, seen);
            await live.WaitForExitAsync(timeout.Token);
        }
        finally
        {
            if (!live.HasExited)
            {
                live.Kill(entireProcessTree: true);
            }
        }
    }

    [Fact]
    public async Task APeerPresentingAnotherKeyFailsTheReplicationWithAClearError()
    {
        await using var couch = await PouchDbServer.StartAsync();
        await couch.CreateUserAsync("peer", PeerPassword);
        await couch.CreateDatabaseAsync("project-db", "peer");
        await using var devices = await PeerDevices.StartAsync(pinsOfB: _ => [PeerDevices.RandomPin()], editB: GrantProjects, environmentB: Environment(couch));
        var result = await ReplicateAsync($"http://127.0.0.1:{devices.ALoopbackPort}/_peers/B/couch/project-db", "push", 3);
        Assert.False(result.GetProperty("ok").GetBoolean(), result.ToString());
        Assert.Equal(502, result.GetProperty("status").GetInt32());
        using var all = await couch.Admin.GetAsync("project-db/_all_docs");
        using var json = JsonDocument.Parse(await all.Content.ReadAsStringAsync());
        Assert.Equal(0, json.RootElement.GetProperty("total_rows").GetInt32());
    }

    [Fact]
    public async Task AReplicationAsksAsOwnCouchDbToPushThroughThePeerLink()
    {
        // A's CouchDB replicates its notes into B's project-db: the local app asks A's gateway
        // (POST /_replicate, a peer end), A's CouchDB enters the peer link on A's loopback listener,
        // and B judges the writes as A's device key, as any replication over the link.
        await using var couchA = await PouchDbServer.StartAsync();
        await using var couchB = await PouchDbServer.StartAsync();
        await couchB.CreateUserAsync("peer", PeerPassword);
        await couchB.CreateDatabaseAsync("project-db", "peer");
        using (var create = await couchA.Admin.PutAsync("notes-0", null))
        {
            Assert.Equal(HttpStatusCode.Created, create.StatusCode);
        }

        for (var n = 1; n <= 3; n++)
        {
            using var put = await couchA.Admin.PutAsync($"notes-0/note-{n}", PouchDbServer.Json($$"""{ "n": {{n}} }"""));
            Assert.Equal(HttpStatusCode.Created, put.StatusCode);
        }

        var environmentA = JsonSerializer.Deserialize(
            $$"""{ "couchdb": { "url": "{{couchA.Url}}", "credentials": { "owner": { "username": "{{PouchDbServer.AdminName}}", "password": "{{PouchDbServer.AdminPassword}}" } } } }""",
            ConfigJsonContext.Default.StdinEnvironment)!;
        await using var devices = await PeerDevices.StartAsync(
            editB: GrantProjects,
            environmentB: Environment(couchB),
            editA: config =>
            {
                config.Routes.Add(new RouteConfig { Kind = "couchdb", Prefix = "/couch/" });
                var local = config.Rules.First(rule => rule.Principals.Contains("local"));
                local.Role = "owner";
                local.Couchdb = new CouchRuleConfig { Databases = ["notes-*"], Allow = ["pull", "replicate"] };
            },
            environmentA: environmentA);

        using var app = devices.LocalClient();
        using var answer = await app.PostAsync("/couch/_replicate", PouchDbServer.Json("""{ "source": "notes-0", "target": { "peer": "B", "db": "project-db" } }"""));
        var text = await answer.Content.ReadAsStringAsync();
        Assert.True(answer.StatusCode == HttpStatusCode.OK, text);
        Assert.DoesNotContain(PouchDbServer.AdminPassword, text, StringComparison.Ordinal);

        using var all = await couchB.Admin.GetAsync("project-db/_all_docs");
        using var json = JsonDocument.Parse(await all.Content.ReadAsStringAsync());
        Assert.Equal(["note-1", "note-2", "note-3"], json.RootElement.GetProperty("rows").EnumerateArray().Select(row => row.GetProperty("id").GetString()));

        // A peer the local rule does not grant, and a database B does not open to A.
        using var otherPeer = await app.PostAsync("/couch/_replicate", PouchDbServer.Json("""{ "source": "notes-0", "target": { "peer": "C", "db": "project-db" } }"""));
        Assert.Equal(HttpStatusCode.Forbidden, otherPeer.StatusCode);
        using var closed = await app.PostAsync("/couch/_replicate", PouchDbServer.Json("""{ "source": "notes-0", "target": { "peer": "B", "db": "secret-db" } }"""));
        // B's own refusal, passed back by A's CouchDB's replicator.
        Assert.False(closed.IsSuccessStatusCode);
        Assert.Contains("no pull grant on secret-db", await closed.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    private static Process StartNode(string url, string mode, string argument) => NodeReplicator.Start("replicate-http.js", url, mode, argument);

    private static void GrantProjects(GatehouseConfig config)
    {
        config.Routes.Add(new RouteConfig { Kind = "couchdb", Prefix = "/couch/" });
        config.Rules.Add(new RuleConfig
        {
            Principals = ["pinned:device-a"],
            Role = "peer",
            Couchdb = new CouchRuleConfig { Databases = ["project-*"], Allow = ["pull", "push", "read", "write"] },
        });
    }

    private static StdinEnvironment Environment(PouchDbServer couch) => JsonSerializer.Deserialize(
        $$"""{ "couchdb": { "url": "{{couch.Url}}", "credentials": { "peer": { "username": "peer", "password": "{{PeerPassword}}" } } } }""",
        ConfigJsonContext.Default.StdinEnvironment)!;

    private static Task<JsonElement> ReplicateAsync(string url, string mode, int count) =>
        NodeReplicator.RunAsync("replicate-http.js", url, mode, count.ToString(System.Globalization.CultureInfo.InvariantCulture));
}
