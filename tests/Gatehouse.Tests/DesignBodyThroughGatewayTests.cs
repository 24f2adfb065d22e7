using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;

namespace Gatehouse.Tests;

/// <summary>
/// Issue 17 item 2 against a real pouchdb-server whose CouchDB user may write design documents:
/// without the design grant, no design document gets in through a body (POST /db, PUT /db/{id},
/// _bulk_docs, with or without new_edits:false, split into small chunks or after megabytes of
/// ordinary documents), and pouchdb-server, asked directly, has none of them afterwards.
/// </summary>
public sealed class DesignBodyThroughGatewayTests : IClassFixture<DesignBodyGateway>
{
    private const string Db = "/couch/" + DesignBodyGateway.Database;
    private const string Validate = "\"validate_doc_update\":\"function(){throw({forbidden:'planted'})}\"";

    private readonly DesignBodyGateway _fixture;

    public DesignBodyThroughGatewayTests(DesignBodyGateway fixture)
    {
        _fixture = fixture;
    }

    [Fact]
    public async Task ThePlainBackendStoresDesignDocumentsFromBodies()
    {
        // What the gateway must stand in front of: pouchdb-server reads the id from the body, even on
        // PUT /db/{id} and PUT /db/_local/{id} (CouchDB would take the URL's), and from ?id=.
        await AdminExpectAsync(HttpMethod.Post, DesignBodyGateway.Database, """{"_id":"_design/plain-post"}""");
        await AdminExpectAsync(HttpMethod.Put, $"{DesignBodyGateway.Database}/not-design", """{"_id":"_design/plain-put"}""");
        await AdminExpectAsync(HttpMethod.Put, $"{DesignBodyGateway.Database}/not-design-2?id=_design/plain-query", "{}");
        await AdminExpectAsync(HttpMethod.Put, $"{DesignBodyGateway.Database}/_local/not-design", """{"_id":"_design/plain-local"}""");
        Assert.Equal(HttpStatusCode.OK, await _fixture.StoredStatusAsync("_design/plain-post"));
        Assert.Equal(HttpStatusCode.OK, await _fixture.StoredStatusAsync("_design/plain-put"));
        Assert.Equal(HttpStatusCode.OK, await _fixture.StoredStatusAsync("_design/plain-query"));
        Assert.Equal(HttpStatusCode.OK, await _fixture.StoredStatusAsync("_design/plain-local"));
    }

    [Theory]
    [InlineData("POST", Db, """{"_id":"_design/p1",""" + Validate + "}", "_design/p1")]
    [InlineData("POST", Db + "/_bulk_docs", """{"docs":[{"_id":"ok-p2"},{"_id":"_design/p2",""" + Validate + "}]}", "_design/p2")]
    [InlineData("POST", Db + "/_bulk_docs", """{"new_edits":false,"docs":[{"_id":"_design/p3","_rev":"1-abc",""" + Validate + "}]}", "_design/p3")]
    [InlineData("POST", Db, """{"_id":"\u005fdesign/p4",""" + Validate + "}", "_design/p4")]
    [InlineData("POST", Db, """{"_id":"plain-p5","_id":"_design/p5"}""", "_design/p5")]
    [InlineData("POST", Db + "/_bulk_docs", """{"d\u006fcs":[{"\u005fid":"_design/p6"}]}""", "_design/p6")]
    [InlineData("PUT", Db + "/plain-p7", """{"_id":"_design/p7"}""", "_design/p7")]
    [InlineData("PUT", Db + "/plain-p8?new_edits=false", """{"_id":"_design/p8","_rev":"1-abc"}""", "_design/p8")]
    [InlineData("PUT", Db + "/_local/p10", """{"_id":"_design/p10"}""", "_design/p10")]
    public async Task RefusesEachProbeAndNothingIsStored(string method, string target, string body, string id)
    {
        using var http = _fixture.DeviceClient();
        using var response = await SendAsync(http, method, target, body);
        Assert.True(response.StatusCode == HttpStatusCode.Forbidden, $"{response.StatusCode}: {await response.Content.ReadAsStringAsync()}");
        Assert.Contains("design", await response.Content.ReadAsStringAsync());
        Assert.Equal(HttpStatusCode.NotFound, await _fixture.StoredStatusAsync(id));
        Assert.Equal(HttpStatusCode.NotFound, await _fixture.StoredStatusAsync("ok-p2"));
    }

    [Fact]
    public async Task AnIdParameterNamingADesignDocumentNeverReachesPouchDbServer()
    {
        // pouchdb-server's PUT /db/{id} takes ?id= when the body has none; no CouchDB write takes id=,
        // so the endpoint table refuses it as a parameter (400) before any body is read.
        using var http = _fixture.DeviceClient();
        using var response = await SendAsync(http, "PUT", Db + "/plain-p9?id=_design/p9", "{}");
        Assert.True(response.StatusCode == HttpStatusCode.BadRequest, $"{response.StatusCode}: {await response.Content.ReadAsStringAsync()}");
        Assert.Contains("parameter id", await response.Content.ReadAsStringAsync());
        Assert.Equal(HttpStatusCode.NotFound, await _fixture.StoredStatusAsync("_design/p9"));
    }

    [Fact]
    public async Task RefusesADesignDocumentSentInSmallChunks()
    {
        var body = Encoding.UTF8.GetBytes("""{"docs":[{"_id":"chunked-ok"},{"_id":"_design/chunked",""" + Validate + "}]}");
        var status = await _fixture.SendChunkedAsync(_fixture.Device, "POST", Db + "/_bulk_docs", body.Chunk(3), TimeSpan.FromMilliseconds(2));
        Assert.Equal(403, status);
        Assert.Equal(HttpStatusCode.NotFound, await _fixture.StoredStatusAsync("_design/chunked"));
        Assert.Equal(HttpStatusCode.NotFound, await _fixture.StoredStatusAsync("chunked-ok"));

        var plain = Encoding.UTF8.GetBytes("""{"docs":[{"_id":"chunked-plain-1"},{"_id":"chunked-plain-2"}]}""");
        Assert.Equal(201, await _fixture.SendChunkedAsync(_fixture.Device, "POST", Db + "/_bulk_docs", plain.Chunk(3), TimeSpan.FromMilliseconds(1)));
        Assert.Equal(HttpStatusCode.OK, await _fixture.StoredStatusAsync("chunked-plain-2"));
    }

    [Fact]
    public async Task RefusesADesignDocumentAfterFiveMegabytesOfOrdinaryOnes()
    {
        var body = BigBulk("big", 5 << 20, """{"_id":"_design/big",""" + Validate + "}");
        var status = await _fixture.SendRawAsync(_fixture.Device, "POST", Db + "/_bulk_docs", body.Chunk(64 * 1024), TimeSpan.Zero, body.Length);
        Assert.True(status == 403, _fixture.LastAnswer);

        Assert.Equal(HttpStatusCode.NotFound, await _fixture.StoredStatusAsync("_design/big"));
        Assert.Equal(HttpStatusCode.NotFound, await _fixture.StoredStatusAsync("big-0")); // the upstream committed nothing

        using var http = _fixture.DeviceClient();
        using (var response = await SendAsync(http, "POST", Db + "/_bulk_docs", BigBulk("fine", 5 << 20, """{"_id":"fine-last"}""")))
        {
            Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        }

        Assert.Equal(HttpStatusCode.OK, await _fixture.StoredStatusAsync("fine-last"));
    }

    [Fact]
    public async Task DeletingOrAttachingToADesignDocumentNeedsTheGrant()
    {
        var rev = await AdminExpectAsync(HttpMethod.Put, $"{DesignBodyGateway.Database}/_design/keep", "{}");
        using var device = _fixture.DeviceClient();
        string[] stub = ["""{"docs":[{"_id":"_design/keep","_rev":""" + $"\"{rev}\"" + ""","_deleted":true}]}"""];
        using (var bulk = await SendAsync(device, "POST", Db + "/_bulk_docs", stub[0]))
        {
            Assert.Equal(HttpStatusCode.Forbidden, bulk.StatusCode);
        }

        using (var delete = await device.DeleteAsync($"{Db}/_design/keep?rev={rev}"))
        {
            Assert.Equal(HttpStatusCode.Forbidden, delete.StatusCode);
        }

        using (var attach = await device.PutAsync($"{Db}/_design/keep/logo.txt?rev={rev}", new StringContent("x")))
        {
            Assert.Equal(HttpStatusCode.Forbidden, attach.StatusCode);
        }

        Assert.Equal(HttpStatusCode.OK, await _fixture.StoredStatusAsync("_design/keep"));
        Assert.Equal(HttpStatusCode.NotFound, await _fixture.StoredStatusAsync("_design/keep/logo.txt"));

        using var designer = _fixture.DesignerClient();
        string newRev;
        using (var attach = await designer.PutAsync($"{Db}/_design/keep/logo.txt?rev={rev}", new StringContent("x")))
        {
            Assert.Equal(HttpStatusCode.Created, attach.StatusCode);
            newRev = JsonDocument.Parse(await attach.Content.ReadAsStringAsync()).RootElement.GetProperty("rev").GetString()!;
        }

        using (var delete = await designer.DeleteAsync($"{Db}/_design/keep?rev={newRev}"))
        {
            Assert.Equal(HttpStatusCode.OK, delete.StatusCode);
        }

        Assert.Equal(HttpStatusCode.NotFound, await _fixture.StoredStatusAsync("_design/keep"));
    }

    [Fact]
    public async Task OrdinaryWritesStillPass()
    {
        using var http = _fixture.DeviceClient();
        using (var post = await SendAsync(http, "POST", Db, """{"_id":"ordinary-1","kind":"_design/x","nested":{"_id":"_design/x"}}"""))
        {
            Assert.Equal(HttpStatusCode.Created, post.StatusCode);
        }

        using (var bulk = await SendAsync(http, "POST", Db + "/_bulk_docs", """{"docs":[{"_id":"ordinary-2"},{"_id":"designer-ish"}]}"""))
        {
            Assert.Equal(HttpStatusCode.Created, bulk.StatusCode);
        }

        using (var put = await SendAsync(http, "PUT", Db + "/ordinary-3", """{"_id":"ordinary-3"}"""))
        {
            Assert.Equal(HttpStatusCode.Created, put.StatusCode);
        }

        using (var local = await SendAsync(http, "PUT", Db + "/_local/checkpoint", """{"last_seq":1}"""))
        {
            Assert.Equal(HttpStatusCode.Created, local.StatusCode);
        }

        foreach (var id in new[] { "ordinary-1", "ordinary-2", "designer-ish", "ordinary-3" })
        {
            Assert.Equal(HttpStatusCode.OK, await _fixture.StoredStatusAsync(id));
        }
    }

    [Theory]
    [InlineData("not json", null, null, HttpStatusCode.BadRequest)]
    [InlineData("""{"_id":"half" """, null, null, HttpStatusCode.BadRequest)]
    [InlineData("""["_design/x"]""", null, null, HttpStatusCode.BadRequest)]
    [InlineData("""{"_id":"+AF8-design/utf7"}""", "utf-7", null, HttpStatusCode.UnsupportedMediaType)]
    [InlineData("""{"_id":"gz"}""", null, "gzip", HttpStatusCode.UnsupportedMediaType)]
    public async Task RefusesBodiesItCannotReadAsTheBackendWould(string body, string? charset, string? coding, HttpStatusCode expected)
    {
        using var http = _fixture.DeviceClient();
        using var content = new ByteArrayContent(Encoding.UTF8.GetBytes(body));
        content.Headers.ContentType = new MediaTypeHeaderValue("application/json") { CharSet = charset };
        if (coding is not null)
        {
            content.Headers.ContentEncoding.Add(coding);
        }

        using var response = await http.PostAsync(Db, content);
        Assert.Equal(expected, response.StatusCode);
        Assert.Contains("\"reason\"", await response.Content.ReadAsStringAsync());
        Assert.Equal(HttpStatusCode.NotFound, await _fixture.StoredStatusAsync("_design/utf7"));
    }

    [Fact]
    public async Task WithTheGrantDesignDocumentsInBodiesAreStored()
    {
        using var http = _fixture.DesignerClient();
        using (var post = await SendAsync(http, "POST", Db, """{"_id":"_design/granted-post","views":{}}"""))
        {
            Assert.Equal(HttpStatusCode.Created, post.StatusCode);
        }

        using (var bulk = await SendAsync(http, "POST", Db + "/_bulk_docs", """{"docs":[{"_id":"_design/granted-bulk"}]}"""))
        {
            Assert.Equal(HttpStatusCode.Created, bulk.StatusCode);
        }

        Assert.Equal(HttpStatusCode.OK, await _fixture.StoredStatusAsync("_design/granted-post"));
        Assert.Equal(HttpStatusCode.OK, await _fixture.StoredStatusAsync("_design/granted-bulk"));
    }

    private static async Task<HttpResponseMessage> SendAsync(HttpClient http, string method, string target, string body) =>
        await SendAsync(http, method, target, Encoding.UTF8.GetBytes(body));

    private static async Task<HttpResponseMessage> SendAsync(HttpClient http, string method, string target, byte[] body)
    {
        using var request = new HttpRequestMessage(new HttpMethod(method), target) { Content = new ByteArrayContent(body) };
        request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        return await http.SendAsync(request);
    }

    /// <summary>Writes directly to pouchdb-server as its admin; returns the new revision.</summary>
    private async Task<string> AdminExpectAsync(HttpMethod method, string path, string body)
    {
        using var request = new HttpRequestMessage(method, path) { Content = PouchDbServer.Json(body) };
        using var response = await _fixture.Couch.Admin.SendAsync(request);
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.Created, $"{response.StatusCode}: {text}");
        return JsonDocument.Parse(text).RootElement.GetProperty("rev").GetString()!;
    }

    private static byte[] BigBulk(string prefix, int size, string last)
    {
        var text = new StringBuilder("""{"docs":[""");
        for (var i = 0; text.Length < size; i++)
        {
            text.Append($$"""{"_id":"{{prefix}}-{{i}}","n":{{i}},"pad":"{{new string('x', 50_000)}}"},""");
        }

        return Encoding.UTF8.GetBytes(text.Append(last).Append("]}").ToString());
    }
}
