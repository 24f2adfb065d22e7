using System.Security.Cryptography.X509Certificates;
using System.Text.Json;
using Gatehouse.Config;
using Gatehouse.Wire;

namespace Gatehouse.Tests;

/// <summary>
/// pouchdb-server behind an in-process gateway that records who created what (issue 7). Three
/// principals may create databases and design documents on every database: Alice (issued by the
/// user CA), Bob and Carol (pinned self-signed keys). Their role's credential, and the provenance
/// credential, are pouchdb-server's admin: pouchdb-server 4.2 in memory crashes on a non-admin
/// <c>PUT /db</c> ("db.info is not a function"), and a CouchDB 3 would also want an admin to create
/// and delete databases. The config is on disk, so <c>gatehouse grants</c> reads the same file.
/// </summary>
public sealed class ProvenanceGateway : IAsyncLifetime
{
    private InProcessGateway? _gateway;

    public PouchDbServer Couch { get; private set; } = null!;

    public InProcessGateway Gateway => _gateway!;

    public X509Certificate2 Alice { get; private set; } = null!;

    public X509Certificate2 Bob { get; private set; } = null!;

    public X509Certificate2 Carol { get; private set; } = null!;

    public string AlicePin => KeyPin.Compute(Alice);

    public string BobPin => KeyPin.Compute(Bob);

    public string CarolPin => KeyPin.Compute(Carol);

    /// <summary>The stdin environment: the CouchDB URL, the creators' and the provenance credential.</summary>
    public string EnvironmentJson => $$"""
        { "couchdb": { "url": "{{Couch.Url}}",
                       "credentials": { "creator": { "username": "{{PouchDbServer.AdminName}}", "password": "{{PouchDbServer.AdminPassword}}" },
                                        "provenance": { "username": "{{PouchDbServer.AdminName}}", "password": "{{PouchDbServer.AdminPassword}}" } } } }
        """;

    public async Task InitializeAsync()
    {
        Couch = await PouchDbServer.StartAsync();
        Bob = CertificateFactory.CreateSelfSignedClient("bob-laptop");
        Carol = CertificateFactory.CreateSelfSignedClient("carol-phone");
        var environment = JsonSerializer.Deserialize(EnvironmentJson, ConfigJsonContext.Default.StdinEnvironment);
        _gateway = await InProcessGateway.StartAsync(environment: environment, configJson: ConfigJson());
        Alice = CertificateFactory.IssueClient(Gateway.Ca, "alice-laptop");
    }

    /// <summary>The config, with <paramref name="denied"/> pins on the deny list (as after a revocation).</summary>
    public string ConfigJson(params string[] denied) => $$"""
        {
          "listen": [ { "address": "::", "port": 0 } ],
          "tls": { "certificate": "server.crt", "key": "server.key" },
          "trust": { "cas": [ { "name": "user", "certificate": "ca.crt" } ],
                     "pins": [ { "name": "bob", "pin": "{{BobPin}}" }, { "name": "carol", "pin": "{{CarolPin}}" } ],
                     "deny": [ {{string.Join(", ", denied.Select(pin => $"\"{pin}\""))}} ] },
          "routes": [ { "kind": "couchdb", "prefix": "/couch/", "provenance": { "database": "gatehouse-provenance", "role": "provenance" } } ],
          "rules": [ { "principals": [ "ca:user", "pinned:bob", "pinned:carol" ], "role": "creator",
                       "couchdb": { "databases": [ "*" ], "allow": [ "pull", "push", "read", "write", "create", "design", "delete" ] } } ]
        }
        """;

    /// <summary>Writes <see cref="ConfigJson"/> under <paramref name="name"/> next to the gateway's certificates and returns its path.</summary>
    public async Task<string> WriteConfigAsync(string name, params string[] denied)
    {
        var path = Gateway.Dir.File(name);
        await File.WriteAllTextAsync(path, ConfigJson(denied));
        return path;
    }

    public HttpClient Client(X509Certificate2 certificate) => Gateway.CreateClient(certificate);

    /// <summary>The provenance records' ids, read with the admin credential.</summary>
    public async Task<HashSet<string>> RecordIdsAsync()
    {
        using var response = await Couch.Admin.GetAsync("gatehouse-provenance/_all_docs");
        if (response.StatusCode == System.Net.HttpStatusCode.NotFound)
        {
            return [];
        }

        using var page = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        return [.. page.RootElement.GetProperty("rows").EnumerateArray().Select(row => row.GetProperty("id").GetString()!)];
    }

    /// <summary>Waits (bounded) until every id of <paramref name="expected"/> is recorded: the writer works off the request path.</summary>
    public async Task WaitForRecordsAsync(params string[] expected)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        while (true)
        {
            var ids = await RecordIdsAsync();
            if (expected.All(ids.Contains))
            {
                return;
            }

            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"provenance records missing: {string.Join(", ", expected.Where(id => !ids.Contains(id)))}; have {string.Join(", ", ids)}");
            }

            await Task.Delay(50); // the writer is asynchronous; bounded by the deadline
        }
    }

    public async Task<bool> ExistsAsync(string path)
    {
        using var response = await Couch.Admin.GetAsync(path);
        return response.IsSuccessStatusCode;
    }

    public async Task DisposeAsync()
    {
        if (_gateway is not null)
        {
            await _gateway.DisposeAsync();
        }

        if (Couch is not null)
        {
            await Couch.DisposeAsync();
        }

        Alice?.Dispose();
        Bob?.Dispose();
        Carol?.Dispose();
    }
}
