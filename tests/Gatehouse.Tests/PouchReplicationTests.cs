using System.Diagnostics;
using System.Security.Cryptography.X509Certificates;
using System.Text.Json;
using Gatehouse.Wire;

namespace Gatehouse.Tests;

/// <summary>
/// Real PouchDB (from Node) replicating through Gatehouse with a client certificate, pull and
/// push, for the user's device and for a peer limited to pulling its project database.
/// </summary>
public sealed class PouchReplicationTests : IClassFixture<CouchGateway>
{
    private readonly CouchGateway _couch;

    public PouchReplicationTests(CouchGateway couch)
    {
        _couch = couch;
    }

    [Fact]
    public async Task DevicePushesThenPullsTheUsersDatabase()
    {
        var push = await ReplicateAsync(_couch.Device, "dmedia-0", "push", 25);
        Assert.True(push.GetProperty("ok").GetBoolean(), push.ToString());
        Assert.Equal(25, push.GetProperty("docs_written").GetInt32());

        var pull = await ReplicateAsync(_couch.Device, "dmedia-0", "pull", 0);
        Assert.True(pull.GetProperty("ok").GetBoolean(), pull.ToString());
        Assert.True(pull.GetProperty("docs_written").GetInt32() >= 25);
    }

    [Fact]
    public async Task PeerPullsItsProjectDatabase()
    {
        using (var seed = await _couch.Couch.Admin.PutAsync("novacut-0-alpha/cut-1", PouchDbServer.Json("""{ "clip": 1 }""")))
        {
            Assert.True(seed.IsSuccessStatusCode || seed.StatusCode == System.Net.HttpStatusCode.Conflict);
        }

        var pull = await ReplicateAsync(_couch.Peer, "novacut-0-alpha", "pull", 0);
        Assert.True(pull.GetProperty("ok").GetBoolean(), pull.ToString());
        Assert.True(pull.GetProperty("docs_written").GetInt32() >= 1);
    }

    [Fact]
    public async Task PeerCannotPushToItsProjectOrPullDmedia()
    {
        var push = await ReplicateAsync(_couch.Peer, "novacut-0-alpha", "push", 3);
        Assert.False(push.GetProperty("ok").GetBoolean(), push.ToString());

        var dmedia = await ReplicateAsync(_couch.Peer, "dmedia-0", "pull", 0);
        Assert.False(dmedia.GetProperty("ok").GetBoolean(), dmedia.ToString());
    }

    private async Task<JsonElement> ReplicateAsync(X509Certificate2 client, string database, string mode, int count)
    {
        var name = "client-" + KeyPin.Compute(client)[8..16].Replace('/', '_').Replace('+', '-');
        var cert = _couch.Gateway.Dir.File(name + ".crt");
        var key = _couch.Gateway.Dir.File(name + ".key");
        if (!File.Exists(cert))
        {
            PemFiles.WriteCertificate(cert, client);
            PemFiles.WritePrivateKey(key, client.GetECDsaPrivateKey()!, default);
        }

        return await NodeReplicator.RunAsync(
            "replicate.js",
            $"https://localhost:{_couch.Gateway.Port}/couch/{database}",
            cert,
            key,
            _couch.Gateway.Dir.File("ca.crt"),
            mode,
            count.ToString(System.Globalization.CultureInfo.InvariantCulture));
    }
}
