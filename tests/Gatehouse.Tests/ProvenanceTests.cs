using System.Net;
using System.Text.Json;
using Gatehouse.Provenance;
using Gatehouse.Wire;

namespace Gatehouse.Tests;

/// <summary>
/// Who created what (issue 7), through the real gateway against a real pouchdb-server; the
/// <c>gatehouse grants</c> commands run as the real executable with the environment on stdin.
/// </summary>
public sealed class ProvenanceTests : IClassFixture<ProvenanceGateway>
{
    private readonly ProvenanceGateway _fixture;

    public ProvenanceTests(ProvenanceGateway fixture)
    {
        _fixture = fixture;
    }

    [Fact]
    public async Task RevokingAliceRemovesOnlyWhatNoOtherTrustedPrincipalHolds()
    {
        using var alice = _fixture.Client(_fixture.Alice);
        using var bob = _fixture.Client(_fixture.Bob);
        using var carol = _fixture.Client(_fixture.Carol);

        // Alice creates four databases and two design documents in the shared one.
        await ExpectAsync(HttpStatusCode.Created, alice, HttpMethod.Put, "/couch/rv-alice-only");
        await ExpectAsync(HttpStatusCode.Created, alice, HttpMethod.Put, "/couch/rv-shared");
        await ExpectAsync(HttpStatusCode.Created, alice, HttpMethod.Put, "/couch/rv-alice-carol");
        await ExpectAsync(HttpStatusCode.Created, alice, HttpMethod.Put, "/couch/rv-alice-hosts-bob");
        await ExpectAsync(HttpStatusCode.Created, alice, HttpMethod.Put, "/couch/rv-shared/_design/alice-app", """{ "views": {} }""");
        var both = await ExpectAsync(HttpStatusCode.Created, alice, HttpMethod.Put, "/couch/rv-shared/_design%2Fboth", """{ "views": {} }""");

        // Bob creates his own, claims the shared database (412: it exists), rewrites the shared
        // design document and puts one of his into a database of Alice's.
        await ExpectAsync(HttpStatusCode.Created, bob, HttpMethod.Put, "/couch/rv-bob-only");
        await ExpectAsync(HttpStatusCode.PreconditionFailed, bob, HttpMethod.Put, "/couch/rv-shared");
        var rev = JsonDocument.Parse(both).RootElement.GetProperty("rev").GetString();
        await ExpectAsync(HttpStatusCode.Created, bob, HttpMethod.Put, $"/couch/rv-shared/_design/both?rev={rev}", """{ "views": {}, "by": "bob" }""");
        await ExpectAsync(HttpStatusCode.Created, bob, HttpMethod.Put, "/couch/rv-alice-hosts-bob/_design/bob-app", """{ "views": {} }""");

        // Carol claims one of Alice's databases, but is revoked too: her claim must not save it.
        await ExpectAsync(HttpStatusCode.PreconditionFailed, carol, HttpMethod.Put, "/couch/rv-alice-carol");

        var a = _fixture.AlicePin;
        var b = _fixture.BobPin;
        await _fixture.WaitForRecordsAsync(
            Db(a, "rv-alice-only"), Db(a, "rv-shared"), Db(a, "rv-alice-carol"), Db(a, "rv-alice-hosts-bob"),
            Design(a, "rv-shared", "alice-app"), Design(a, "rv-shared", "both"),
            Db(b, "rv-bob-only"), Db(b, "rv-shared"), Design(b, "rv-shared", "both"), Design(b, "rv-alice-hosts-bob", "bob-app"),
            Db(_fixture.CarolPin, "rv-alice-carol"));

        var config = await _fixture.WriteConfigAsync("revoked.json", a, _fixture.CarolPin);

        // show: each resource of Alice's with the still-trusted principals that also hold it.
        var show = await GrantsAsync("show", a, "--config", config, "--json");
        Assert.True(show.ExitCode == 0, show.Stderr);
        var shown = Resources(show.Stdout);
        Assert.Equal(
            ["rv-alice-carol", "rv-alice-hosts-bob", "rv-alice-only", "rv-shared", "rv-shared/_design/alice-app", "rv-shared/_design/both"],
            shown.Keys.Order(StringComparer.Ordinal));
        Assert.Equal([b], shown["rv-shared"].HeldBy);
        Assert.Equal([b], shown["rv-shared/_design/both"].HeldBy);
        Assert.Equal([b], shown["rv-alice-hosts-bob"].HeldBy);
        Assert.Empty(shown["rv-alice-only"].HeldBy);
        Assert.Empty(shown["rv-alice-carol"].HeldBy);
        Assert.Empty(shown["rv-shared/_design/alice-app"].HeldBy);
        Assert.False(JsonDocument.Parse(show.Stdout).RootElement.GetProperty("stillTrusted").GetBoolean());

        // revoke, dry run: the plan, and nothing changes.
        var recordsBefore = await _fixture.RecordIdsAsync();
        var dry = await GrantsAsync("revoke", a, "--config", config);
        Assert.True(dry.ExitCode == 0, dry.Stderr);
        Assert.Contains("dry run: would remove 3, keep 3", dry.Stdout, StringComparison.Ordinal);
        Assert.Contains("rv-alice-only", dry.Stdout, StringComparison.Ordinal);
        Assert.True(await _fixture.ExistsAsync("rv-alice-only"));
        Assert.True(await _fixture.ExistsAsync("rv-alice-carol"));
        Assert.True(await _fixture.ExistsAsync("rv-shared/_design/alice-app"));
        Assert.Equal(recordsBefore, await _fixture.RecordIdsAsync());

        // revoke --apply: only what Alice alone held goes.
        var applied = await GrantsAsync("revoke", a, "--config", config, "--apply", "--json");
        Assert.True(applied.ExitCode == 0, applied.Stderr);
        var actions = Resources(applied.Stdout);
        Assert.Equal("removed", actions["rv-alice-only"].Action);
        Assert.Equal("keep", actions["rv-shared"].Action);
        Assert.False(await _fixture.ExistsAsync("rv-alice-only"));
        Assert.False(await _fixture.ExistsAsync("rv-alice-carol"));
        Assert.False(await _fixture.ExistsAsync("rv-shared/_design/alice-app"));
        Assert.True(await _fixture.ExistsAsync("rv-shared"));
        Assert.True(await _fixture.ExistsAsync("rv-shared/_design/both"));
        Assert.True(await _fixture.ExistsAsync("rv-alice-hosts-bob"));
        Assert.True(await _fixture.ExistsAsync("rv-alice-hosts-bob/_design/bob-app"));
        Assert.True(await _fixture.ExistsAsync("rv-bob-only"));

        // Alice's records are gone, Bob's (and revoked Carol's, for her own revoke) stay.
        var after = await _fixture.RecordIdsAsync();
        Assert.DoesNotContain(after, id => id.StartsWith(a + "|", StringComparison.Ordinal));
        Assert.Contains(Db(b, "rv-shared"), after);
        Assert.Contains(Design(b, "rv-shared", "both"), after);
        Assert.Contains(Db(_fixture.CarolPin, "rv-alice-carol"), after);

        // Run again: nothing left to do.
        var again = await GrantsAsync("revoke", a, "--config", config, "--apply");
        Assert.True(again.ExitCode == 0, again.Stderr);
        Assert.Contains("0 resource(s)", again.Stdout, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ARepeatedCreationIsRecordedOnceAndAFailedOneNotAtAll()
    {
        using var bob = _fixture.Client(_fixture.Bob);
        await ExpectAsync(HttpStatusCode.Created, bob, HttpMethod.Put, "/couch/once-db");
        await ExpectAsync(HttpStatusCode.PreconditionFailed, bob, HttpMethod.Put, "/couch/once-db");
        await ExpectAsync(HttpStatusCode.Created, bob, HttpMethod.Put, "/couch/once-db/_design/app", "{}");
        await ExpectAsync(HttpStatusCode.Conflict, bob, HttpMethod.Put, "/couch/once-db/_design/app", "{}");
        await ExpectAsync(HttpStatusCode.BadRequest, bob, HttpMethod.Put, "/couch/once-db/_design/bad", "not json");

        await _fixture.WaitForRecordsAsync(Db(_fixture.BobPin, "once-db"), Design(_fixture.BobPin, "once-db", "app"));
        using var record = JsonDocument.Parse(await _fixture.Couch.Admin.GetStringAsync("gatehouse-provenance/" + Uri.EscapeDataString(Db(_fixture.BobPin, "once-db"))));
        Assert.Equal("created", record.RootElement.GetProperty("how").GetString());
        Assert.Equal("1", record.RootElement.GetProperty("_rev").GetString()!.Split('-')[0]);
        Assert.Equal("CN=bob-laptop", record.RootElement.GetProperty("subject").GetString());
        Assert.DoesNotContain(Design(_fixture.BobPin, "once-db", "bad"), await _fixture.RecordIdsAsync());
    }

    [Fact]
    public async Task ADeletedDatabaseIsRecordedAsADeedThatRevokeKeeps()
    {
        using var bob = _fixture.Client(_fixture.Bob);
        await ExpectAsync(HttpStatusCode.Created, bob, HttpMethod.Put, "/couch/gone-db");
        await ExpectAsync(HttpStatusCode.OK, bob, HttpMethod.Delete, "/couch/gone-db");

        var deletion = ProvenanceRecord.IdFor(_fixture.BobPin, ProvenanceRecord.DeletionKind, "gone-db", null);
        await _fixture.WaitForRecordsAsync(Db(_fixture.BobPin, "gone-db"), deletion);
        using var record = JsonDocument.Parse(await _fixture.Couch.Admin.GetStringAsync("gatehouse-provenance/" + Uri.EscapeDataString(deletion)));
        Assert.Equal("deleted", record.RootElement.GetProperty("how").GetString());
        Assert.Equal("1", record.RootElement.GetProperty("_rev").GetString()!.Split('-')[0]);
    }

    [Theory]
    [InlineData("GET", "/couch/gatehouse-provenance")]
    [InlineData("GET", "/couch/gatehouse-provenance/")]
    [InlineData("GET", "/couch/gatehouse-provenance/_all_docs?include_docs=true")]
    [InlineData("GET", "/couch/gatehouse-provenance/_changes")]
    [InlineData("GET", "/couch/gatehouse%2Dprovenance/_all_docs")]
    [InlineData("GET", "/couch/%67atehouse-provenance/_all_docs")]
    [InlineData("GET", "/couch/gatehouse-provenance/any-record")]
    [InlineData("PUT", "/couch/gatehouse-provenance")]
    [InlineData("PUT", "/couch/gatehouse-provenance/forged")]
    [InlineData("POST", "/couch/gatehouse-provenance/_bulk_docs")]
    [InlineData("PUT", "/couch/gatehouse-provenance/_design/x")]
    [InlineData("PUT", "/couch/gatehouse-provenance/_local/x")]
    [InlineData("DELETE", "/couch/gatehouse-provenance/forged?rev=1-a")]
    public async Task TheProvenanceDatabaseIsClosedToEveryRemotePrincipal(string method, string path)
    {
        // Alice's rule grants everything on "*"; the gateway's own database stays closed anyway.
        using var alice = _fixture.Client(_fixture.Alice);
        using var request = new HttpRequestMessage(new HttpMethod(method), path) { Content = method is "PUT" or "POST" ? PouchDbServer.Json("{}") : null };
        using var response = await alice.SendAsync(request);
        Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
        Assert.Contains("provenance", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task TheProvenanceDatabaseIsNotListed()
    {
        using var bob = _fixture.Client(_fixture.Bob);
        await ExpectAsync(HttpStatusCode.Created, bob, HttpMethod.Put, "/couch/listed-db");
        await _fixture.WaitForRecordsAsync(Db(_fixture.BobPin, "listed-db"));

        var all = await bob.GetStringAsync("/couch/_all_dbs");

        Assert.Contains("listed-db", all, StringComparison.Ordinal);
        Assert.DoesNotContain("gatehouse-provenance", all, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("show")]
    [InlineData("revoke")]
    public async Task GrantsRefuseABadPin(string command)
    {
        var config = await _fixture.WriteConfigAsync("bad-pin.json");

        var result = await GrantsAsync(command, "sha256//not-a-pin", "--config", config);

        Assert.Equal(2, result.ExitCode);
        Assert.Contains("not a principal", result.Stderr, StringComparison.Ordinal);
        Assert.Empty(result.Stdout);
    }

    [Fact]
    public async Task RevokeApplyRefusesAPrincipalTheConfigStillTrusts()
    {
        using var bob = _fixture.Client(_fixture.Bob);
        await ExpectAsync(HttpStatusCode.Created, bob, HttpMethod.Put, "/couch/still-trusted-db");
        await _fixture.WaitForRecordsAsync(Db(_fixture.BobPin, "still-trusted-db"));
        var config = await _fixture.WriteConfigAsync("trusting.json");

        var result = await GrantsAsync("revoke", _fixture.BobPin, "--config", config, "--apply");

        Assert.Equal(2, result.ExitCode);
        Assert.Contains("still trusted", result.Stderr, StringComparison.Ordinal);
        Assert.True(await _fixture.ExistsAsync("still-trusted-db"));
        Assert.Contains(Db(_fixture.BobPin, "still-trusted-db"), await _fixture.RecordIdsAsync());
    }

    [Fact]
    public async Task GrantsNeedTheProvenanceCredentialOnStdin()
    {
        var config = await _fixture.WriteConfigAsync("no-credential.json");
        var environment = $$"""{ "couchdb": { "url": "{{_fixture.Couch.Url}}", "credentials": { } } }""";

        var result = await GatehouseProcess.RunAsync(environment, "grants", "show", _fixture.BobPin, "--config", config);

        Assert.Equal(2, result.ExitCode);
        Assert.Contains("no credential for role \"provenance\"", result.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AFailingRecordIsLoggedAndNeverFailsTheRequest()
    {
        // A second gateway on the same pouchdb-server whose provenance credential is wrong.
        using var logs = new CapturedLogs();
        var environment = JsonSerializer.Deserialize(
            _fixture.EnvironmentJson.Replace("\"provenance\": { \"username\": \"admin\"", "\"provenance\": { \"username\": \"nobody\"", StringComparison.Ordinal),
            Config.ConfigJsonContext.Default.StdinEnvironment);
        Assert.Equal("nobody", environment!.Couchdb!.Credentials["provenance"].Username);
        await using var gateway = await InProcessGateway.StartAsync(
            environment: environment,
            configJson: _fixture.ConfigJson().Replace("\"database\": \"gatehouse-provenance\"", "\"database\": \"broken-provenance\"", StringComparison.Ordinal),
            options: new Hosting.GatehouseServerOptions { Loggers = logs.Factory });
        using var certificate = CertificateFactory.IssueClient(gateway.Ca, "alice-laptop");
        using var alice = gateway.CreateClient(certificate);

        await ExpectAsync(HttpStatusCode.Created, alice, HttpMethod.Put, "/couch/unrecorded-db");

        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        while (!logs.Text.Contains("unrecorded-db by sha256//", StringComparison.Ordinal) || !logs.Text.Contains("(attempt 3)", StringComparison.Ordinal))
        {
            Assert.True(DateTime.UtcNow < deadline, "no provenance failure logged:\n" + logs.Text);
            await Task.Delay(50); // the writer retries off the request path; bounded by the deadline
        }

        Assert.Contains("CouchDB answered 401", logs.Text, StringComparison.Ordinal);
        Assert.DoesNotContain(PouchDbServer.AdminPassword, logs.Text, StringComparison.Ordinal);
        Assert.False(await _fixture.ExistsAsync("broken-provenance"));
        Assert.True(await _fixture.ExistsAsync("unrecorded-db"));
    }

    [Fact]
    public void AnExplicitProvenanceWithoutItsCredentialIsAConfigError()
    {
        var environment = JsonSerializer.Deserialize(
            $$"""{ "couchdb": { "url": "{{_fixture.Couch.Url}}", "credentials": { "creator": { "username": "admin", "password": "x" } } } }""",
            Config.ConfigJsonContext.Default.StdinEnvironment)!;
        var explicitly = new Model.Route(Config.RouteKind.CouchDb, "/couch/", new Config.RouteConfig { Kind = "couchdb", Prefix = "/couch/", Provenance = new Config.ProvenanceConfig() });
        var byDefault = new Model.Route(Config.RouteKind.CouchDb, "/couch/", new Config.RouteConfig { Kind = "couchdb", Prefix = "/couch/" });

        var error = Assert.Throws<Config.ConfigException>(() => ProvenanceRecorder.Create(explicitly, environment.Couchdb!, Microsoft.Extensions.Logging.Abstractions.NullLoggerFactory.Instance));

        Assert.Contains("no credential for role \"provenance\"", error.Message, StringComparison.Ordinal);
        Assert.Null(ProvenanceRecorder.Create(byDefault, environment.Couchdb!, Microsoft.Extensions.Logging.Abstractions.NullLoggerFactory.Instance));
    }

    [Fact]
    public async Task CheckConfigSaysWhereProvenanceIsRecorded()
    {
        var config = await _fixture.WriteConfigAsync("check.json");

        var result = await GatehouseProcess.RunAsync(null, "check-config", config);

        Assert.True(result.ExitCode == 0, result.Stderr);
        Assert.Contains("recorded in gatehouse-provenance with the \"provenance\" credential", result.Stdout, StringComparison.Ordinal);
        Assert.Contains("couchdb pull/push/read/write/create/design/delete on *", result.Stdout, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("\"database\": \"gatehouse-provenance\"", "\"database\": \"Bad Name\"", "$.routes[0].provenance.database")]
    [InlineData("\"role\": \"provenance\"", "\"role\": \"\"", "$.routes[0].provenance.role")]
    [InlineData("\"create\", \"design\"", "\"create\", \"designs\"", "$.rules[0].couchdb.allow")]
    public async Task ABadProvenanceSettingOrGrantIsNamed(string from, string to, string field)
    {
        var config = await _fixture.WriteConfigAsync("bad-setting.json");
        await File.WriteAllTextAsync(config, (await File.ReadAllTextAsync(config)).Replace(from, to, StringComparison.Ordinal));

        var result = await GatehouseProcess.RunAsync(null, "check-config", config);

        Assert.Equal(2, result.ExitCode);
        Assert.Contains(field, result.Stderr, StringComparison.Ordinal);
    }

    private Task<(int ExitCode, string Stdout, string Stderr)> GrantsAsync(params string[] args) =>
        GatehouseProcess.RunAsync(_fixture.EnvironmentJson, ["grants", .. args]);

    private static string Db(string pin, string database) => ProvenanceRecord.IdFor(pin, ProvenanceRecord.DatabaseKind, database, null);

    private static string Design(string pin, string database, string name) => ProvenanceRecord.IdFor(pin, ProvenanceRecord.DesignKind, database, "_design/" + name);

    private static Dictionary<string, (List<string> HeldBy, string Action)> Resources(string json)
    {
        using var report = JsonDocument.Parse(json);
        return report.RootElement.GetProperty("resources").EnumerateArray().ToDictionary(
            item => item.GetProperty("resource").GetString()!,
            item => (item.GetProperty("alsoHeldBy").EnumerateArray().Select(h => h.GetProperty("holder").GetString()!).ToList(), item.GetProperty("action").GetString()!));
    }

    private static async Task<string> ExpectAsync(HttpStatusCode expected, HttpClient http, HttpMethod method, string path, string? json = null)
    {
        using var request = new HttpRequestMessage(method, path) { Content = json is null ? null : PouchDbServer.Json(json) };
        using var response = await http.SendAsync(request);
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == expected, $"{method} {path}: {(int)response.StatusCode} {body}");
        return body;
    }
}
