using System.Net;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;

namespace Gatehouse.Tests;

/// <summary>CouchDB behind the gate (issue 3), against a real pouchdb-server enforcing users and _security.</summary>
public sealed class CouchThroughGatewayTests : IClassFixture<CouchGateway>
{
    private readonly CouchGateway _couch;

    public CouchThroughGatewayTests(CouchGateway couch)
    {
        _couch = couch;
    }

    [Fact]
    public async Task DeviceWritesReadsAndAttachesThroughTheGate()
    {
        using var http = _couch.DeviceClient();
        using (var put = await http.PutAsync("/couch/dmedia-0/doc-crud", PouchDbServer.Json("""{ "title": "holiday" }""")))
        {
            Assert.True(put.StatusCode == HttpStatusCode.Created, await put.Content.ReadAsStringAsync());
        }

        using var doc = JsonDocument.Parse(await http.GetStringAsync("/couch/dmedia-0/doc-crud"));
        Assert.Equal("holiday", doc.RootElement.GetProperty("title").GetString());
        var rev = doc.RootElement.GetProperty("_rev").GetString();

        var attachment = RandomNumberGenerator.GetBytes(5 * 1024 * 1024);
        using var content = new ByteArrayContent(attachment);
        content.Headers.ContentType = new MediaTypeHeaderValue("application/octet-stream");
        using (var attach = await http.PutAsync($"/couch/dmedia-0/doc-crud/clip.bin?rev={rev}", content))
        {
            Assert.Equal(HttpStatusCode.Created, attach.StatusCode);
        }

        Assert.Equal(attachment, await http.GetByteArrayAsync("/couch/dmedia-0/doc-crud/clip.bin"));
        Assert.Contains("doc-crud", await http.GetStringAsync("/couch/dmedia-0/_all_docs"));
    }

    [Fact]
    public async Task PeerPullsItsProjectButIsRefusedDmediaAndWrites()
    {
        using var http = _couch.PeerClient();
        using (var changes = await http.GetAsync("/couch/novacut-0-alpha/_changes"))
        {
            Assert.Equal(HttpStatusCode.OK, changes.StatusCode);
        }

        using (var dmedia = await http.GetAsync("/couch/dmedia-0/_changes"))
        {
            Assert.Equal(HttpStatusCode.Forbidden, dmedia.StatusCode);
        }

        using (var write = await http.PutAsync("/couch/novacut-0-alpha/intruder", PouchDbServer.Json("{}")))
        {
            Assert.Equal(HttpStatusCode.Forbidden, write.StatusCode);
        }

        using var create = await http.PutAsync("/couch/novacut-0-new", null);
        Assert.Equal(HttpStatusCode.Forbidden, create.StatusCode);
    }

    [Theory]
    [InlineData("GET", "/couch/_config")]
    [InlineData("GET", "/couch/%5Fconfig")]
    [InlineData("GET", "/couch/_config/admins")]
    [InlineData("GET", "/couch/_node/_local/_config")]
    [InlineData("GET", "/couch/_users/_all_docs")]
    [InlineData("GET", "/couch/%5fusers/_all_docs")]
    [InlineData("POST", "/couch/_replicate")]
    [InlineData("GET", "/couch/_session")]
    [InlineData("GET", "/couch/_utils/")]
    [InlineData("GET", "/couch/_active_tasks")]
    [InlineData("GET", "/couch/_uuids")]
    [InlineData("GET", "/couch/dmedia-0/_security")]
    [InlineData("PUT", "/couch/dmedia-0/_security")]
    [InlineData("PUT", "/couch/dmedia-0/%5Fsecurity")]
    [InlineData("PUT", "/couch/dmedia-0/_design/evil")]
    [InlineData("PUT", "/couch/dmedia-0/_design%2Fevil")]
    [InlineData("POST", "/couch/dmedia-0/_compact")]
    [InlineData("POST", "/couch/dmedia-0/_purge")]
    [InlineData("POST", "/couch/dmedia-0/_view_cleanup")]
    [InlineData("DELETE", "/couch/dmedia-0")]
    [InlineData("GET", "/couch/dmedia-0/_design/app/_show/x")]
    [InlineData("GET", "/couch/dmedia-0/_changes?filter=app/mine")]
    [InlineData("GET", "/couch/dmedia-0/doc?callback=steal")]
    [InlineData("GET", "/couch/Dmedia-0/doc")]
    public async Task ClosedEndpointsAreRefusedEvenToTheDevice(string method, string path)
    {
        using var http = _couch.DeviceClient();
        var logBefore = await SettleCouchLogAsync(http);
        using var request = new HttpRequestMessage(new HttpMethod(method), path) { Content = method is "PUT" or "POST" ? PouchDbServer.Json("{}") : null };
        using var response = await http.SendAsync(request);
        Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
        Assert.Contains("\"error\":\"forbidden\"", await response.Content.ReadAsStringAsync());

        // Nothing reached pouchdb-server: the only line it logged since is the next sentinel's.
        await SettleCouchLogAsync(http);
        var newLines = _couch.Couch.Log[logBefore..].Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Single(newLines);
        Assert.Contains("sentinel-", newLines[0]);
    }

    [Theory]
    [InlineData("/couch/dmedia-0/../_config")]
    [InlineData("/couch/dmedia-0/%2e%2e/_config")]
    [InlineData("/couch//_config")]
    [InlineData("/couch/./_config")]
    [InlineData("/couch/dmedia-0/%00")]
    public async Task AmbiguousPathsNeverReachCouch(string path)
    {
        var status = await RawStatusAsync(path);
        Assert.Equal(400, status);
    }

    [Fact]
    public async Task ClientCredentialsAreStrippedSoAPeerCannotBecomeAdmin()
    {
        using var http = _couch.PeerClient();
        // novacut-0-beta admits only the device user; the peer's pull grant lets the request
        // through the gate, and CouchDB must judge it with the peer credential, not the admin one sent here.
        using var request = new HttpRequestMessage(HttpMethod.Get, "/couch/novacut-0-beta/_changes");
        request.Headers.Authorization = new AuthenticationHeaderValue("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes($"{PouchDbServer.AdminName}:{PouchDbServer.AdminPassword}")));
        request.Headers.Add("X-Auth-CouchDB-UserName", "admin");
        request.Headers.Add("X-Auth-CouchDB-Roles", "_admin");
        request.Headers.Add("Cookie", TestSecrets.StolenCookie);
        using var response = await http.SendAsync(request);
        Assert.True(response.StatusCode is HttpStatusCode.Unauthorized or HttpStatusCode.Forbidden, $"got {(int)response.StatusCode}");
    }

    [Fact]
    public async Task AllDbsIsFilteredToWhatThePeerMaySee()
    {
        using var http = _couch.PeerClient();
        var json = await http.GetStringAsync("/couch/_all_dbs");
        var names = JsonSerializer.Deserialize<string[]>(json)!;
        Assert.Contains("novacut-0-alpha", names);
        Assert.DoesNotContain("dmedia-0", names);
        Assert.DoesNotContain("_users", names);
    }

    [Fact]
    public async Task ContinuousChangesDeliverAChangeMadeAfterwards()
    {
        using var http = _couch.DeviceClient();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(20));
        using var response = await http.GetAsync("/couch/dmedia-0/_changes?feed=continuous&since=now&heartbeat=500", HttpCompletionOption.ResponseHeadersRead, timeout.Token);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        using var reader = new StreamReader(await response.Content.ReadAsStreamAsync(timeout.Token));

        var id = "late-" + Guid.NewGuid().ToString("N");
        using (var put = await _couch.Couch.Admin.PutAsync($"dmedia-0/{id}", PouchDbServer.Json("{}")))
        {
            Assert.True(put.IsSuccessStatusCode);
        }

        while (true)
        {
            var line = await reader.ReadLineAsync(timeout.Token);
            Assert.NotNull(line);
            if (line.Contains(id, StringComparison.Ordinal))
            {
                break;
            }
        }
    }

    /// <summary>
    /// pouchdb-server logs asynchronously: send an allowed request with a unique path and wait
    /// until its log line appears, so every earlier line is in. Returns the log length then.
    /// </summary>
    private async Task<int> SettleCouchLogAsync(HttpClient http)
    {
        var sentinel = "sentinel-" + Guid.NewGuid().ToString("N");
        using (var allowed = await http.GetAsync("/couch/dmedia-0/" + sentinel))
        {
            Assert.Equal(HttpStatusCode.NotFound, allowed.StatusCode);
        }

        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (!_couch.Couch.Log.Contains(sentinel, StringComparison.Ordinal))
        {
            Assert.True(DateTime.UtcNow < deadline, "pouchdb-server never logged the sentinel request");
            await Task.Delay(20);
        }

        return _couch.Couch.Log.Length;
    }

    private async Task<int> RawStatusAsync(string path)
    {
        using var tcp = new System.Net.Sockets.TcpClient();
        await tcp.ConnectAsync(IPAddress.Loopback, _couch.Gateway.Port);
        using var tls = new System.Net.Security.SslStream(tcp.GetStream());
        await tls.AuthenticateAsClientAsync(new System.Net.Security.SslClientAuthenticationOptions
        {
            TargetHost = "localhost",
            ClientCertificates = [_couch.Device],
            RemoteCertificateValidationCallback = (_, _, _, _) => true,
        });
        await tls.WriteAsync(Encoding.ASCII.GetBytes($"GET {path} HTTP/1.1\r\nHost: localhost\r\n\r\n"));
        var buffer = new byte[4096];
        var read = await tls.ReadAsync(buffer);
        var head = Encoding.ASCII.GetString(buffer, 0, read);
        return int.Parse(head.AsSpan(9, 3), System.Globalization.CultureInfo.InvariantCulture);
    }
}
