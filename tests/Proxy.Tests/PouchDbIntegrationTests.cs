namespace Gatehouse.Proxy.Tests;

/// <summary>The forwarder against the real pouchdb-server (issue 3's "real CouchDB in tests").</summary>
public sealed class PouchDbIntegrationTests
{
    [Fact]
    public async Task ForwardsServerInfoAndDocumentWritesAndReadsToPouchDbServer()
    {
        using var pouch = await PouchDbServer.StartAsync();
        await using var gateway = new Gateway([pouch.Uri]);
        using var client = await gateway.ConnectAsync();

        await client.SendAsync("GET /couch/ HTTP/1.1\r\nHost: g\r\n\r\n");
        var info = await client.ReadResponseAsync();
        Assert.Equal(200, info.Status);
        Assert.Contains("\"express-pouchdb\":\"Welcome!\"", info.Body);

        await client.SendAsync("PUT /couch/novacut-0-demo HTTP/1.1\r\nHost: g\r\nContent-Length: 0\r\n\r\n");
        Assert.Equal(201, (await client.ReadResponseAsync()).Status);

        const string doc = "{\"title\":\"gate\",\"n\":1}";
        await client.SendAsync($"PUT /couch/novacut-0-demo/doc%201 HTTP/1.1\r\nHost: g\r\nContent-Type: application/json\r\nContent-Length: {doc.Length}\r\n\r\n{doc}");
        var put = await client.ReadResponseAsync();
        Assert.Equal(201, put.Status);
        Assert.Contains("\"id\":\"doc 1\"", put.Body);

        await client.SendAsync("GET /couch/novacut-0-demo/doc%201 HTTP/1.1\r\nHost: g\r\n\r\n");
        var get = await client.ReadResponseAsync();
        Assert.Equal(200, get.Status);
        Assert.Contains("\"title\":\"gate\"", get.Body);
        Assert.Contains("\"_rev\":\"1-", get.Body);
        Assert.Equal(1, gateway.Pool.ConnectionsOpened); // all four over one pooled connection
    }
}
