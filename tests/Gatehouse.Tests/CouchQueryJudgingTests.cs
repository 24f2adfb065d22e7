using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using System.Text.Json;
using Gatehouse.Config;
using Gatehouse.Wire;

namespace Gatehouse.Tests;

/// <summary>
/// Issue 17, hole 1: CouchDB's query parser (mochiweb <c>parse_qs</c>) ends a parameter at ';' as
/// well as '&amp;'. Over a real TLS socket, the couchdb route must judge the parameters CouchDB would
/// read, refuse names the endpoint does not take (400), and forward a query rebuilt from what it
/// judged. The backend is a recorder, the witness of exactly what crossed the gateway.
/// </summary>
public sealed class CouchQueryJudgingTests : IAsyncLifetime
{
    private readonly Smuggling.RecordingBackend _backend = new();
    private InProcessGateway? _gateway;
    private X509Certificate2? _device;

    public async Task InitializeAsync()
    {
        var environment = JsonSerializer.Deserialize(
            $$"""{ "couchdb": { "url": "http://127.0.0.1:{{_backend.Port}}/", "credentials": { "device": { "username": "device", "password": "{{TestSecrets.CouchDevicePassword}}" } } } }""",
            ConfigJsonContext.Default.StdinEnvironment);
        _gateway = await InProcessGateway.StartAsync(
            config =>
            {
                config.Routes.Add(new RouteConfig { Kind = "couchdb", Prefix = "/couch/" });
                config.Rules =
                [
                    new RuleConfig
                    {
                        Principals = ["ca:user"],
                        Role = "device",
                        Couchdb = new CouchRuleConfig { Databases = ["*"], Allow = ["pull", "push", "read", "write", "create"] },
                    },
                ];
                return config;
            },
            environment: environment);
        _device = CertificateFactory.IssueClient(_gateway.Ca, "alice-laptop");
    }

    public async Task DisposeAsync()
    {
        if (_gateway is not null)
        {
            await _gateway.DisposeAsync();
        }

        await _backend.DisposeAsync();
        _device?.Dispose();
    }

    [Theory]
    [InlineData("/couch/dmedia-0/_changes?limit=3;filter=f/none", 403)] // a design filter, hidden from an '&'-only reader
    [InlineData("/couch/dmedia-0/_changes?limit=3;view=f/v", 403)]
    [InlineData("/couch/dmedia-0/doc?rev=1-a;callback=steal", 403)]
    [InlineData("/couch/dmedia-0/doc?rev=1-a;%63allback=steal", 403)]
    [InlineData("/couch/dmedia-0/_all_docs?limit=1;stale=ok;x=y", 400)] // x: not a parameter of _all_docs
    [InlineData("/couch/dmedia-0/doc?rev=1-a&rev=2-b", 400)] // CouchDB reads the first of some, the last of others
    [InlineData("/couch/dmedia-0/doc?revs=true&%FF=1", 400)] // not UTF-8 once decoded
    [InlineData("/couch/dmedia-0/_all_docs?limit=1&Limit=2", 400)] // names are case-sensitive
    public async Task ParameterCouchDbWouldReadIsJudged(string target, int expected)
    {
        var (status, _) = await SendAsync("GET", target);
        Assert.Equal(expected, status);
        Assert.DoesNotContain(_backend.Requests, r => r.RequestLine.Contains("callback", StringComparison.Ordinal) || r.RequestLine.Contains("filter=f", StringComparison.Ordinal) || r.RequestLine.Contains("view=", StringComparison.Ordinal));
        if (expected == 400)
        {
            Assert.Empty(_backend.Requests);
        }
    }

    [Fact]
    public async Task ReplicatedWriteBehindSemicolonNeedsThePushGrant()
    {
        // ?x;new_edits=false is a replicated write to CouchDB: judged as one (push), not as a plain write.
        var (status, _) = await SendAsync("PUT", "/couch/dmedia-0/doc?batch=ok;new_edits=false", "{}");
        Assert.Equal(200, status);
        var line = Assert.Single(_backend.Requests).RequestLine;
        Assert.Equal("PUT /dmedia-0/doc?batch=ok&new_edits=false HTTP/1.1", line);
    }

    [Theory]
    [InlineData("/couch/dmedia-0/_changes?feed=longpoll;since=now", "/dmedia-0/_changes?feed=longpoll&since=now")]
    [InlineData("/couch/dmedia-0/_all_docs?startkey=%22a%3Bb%22&limit=1", "/dmedia-0/_all_docs?startkey=%22a%3Bb%22&limit=1")]
    [InlineData("/couch/dmedia-0/_all_docs?startkey=%22a+b%22", "/dmedia-0/_all_docs?startkey=%22a%20b%22")]
    [InlineData("/couch/dmedia-0/_all_docs?descending&limit=2&limit=2", "/dmedia-0/_all_docs?descending=&limit=2")]
    [InlineData("/couch/dmedia-0/doc?revs=true&open_revs=all&latest=true", "/dmedia-0/doc?revs=true&open_revs=all&latest=true")]
    [InlineData("/couch/dmedia-0/doc?atts_since=%5b%221-a%22%5d", "/dmedia-0/doc?atts_since=%5B%221-a%22%5D")]
    [InlineData("/couch/dmedia-0/doc?", "/dmedia-0/doc")]
    public async Task ForwardedQueryIsRebuiltFromWhatWasJudged(string target, string forwarded)
    {
        var (status, _) = await SendAsync("GET", target);
        Assert.Equal(200, status);
        var line = Assert.Single(_backend.Requests).RequestLine;
        Assert.Equal($"GET {forwarded} HTTP/1.1", line);
    }

    [Fact]
    public async Task SemicolonInAPathSegmentIsSentEncoded()
    {
        // CouchDB reads "doc;x" as one document id, a servlet container as "doc" with a parameter:
        // %3B means the same to the first and cannot be split by the second.
        var (status, _) = await SendAsync("GET", "/couch/dmedia-0/doc;callback=steal");
        Assert.Equal(200, status);
        Assert.Equal("GET /dmedia-0/doc%3Bcallback=steal HTTP/1.1", Assert.Single(_backend.Requests).RequestLine);
    }

    [Fact]
    public async Task RefusalNamesTheParameter()
    {
        var (status, body) = await SendAsync("GET", "/couch/dmedia-0/_all_docs?limit=1;reduce=false");
        Assert.Equal(400, status);
        Assert.Contains("parameter reduce is not", body, StringComparison.Ordinal);
    }

    private async Task<(int Status, string Body)> SendAsync(string method, string target, string? body = null)
    {
        using var tcp = new TcpClient();
        await tcp.ConnectAsync(IPAddress.Loopback, _gateway!.Port);
        await using var tls = new SslStream(tcp.GetStream());
        await tls.AuthenticateAsClientAsync(new SslClientAuthenticationOptions
        {
            TargetHost = "localhost",
            ClientCertificates = [_device!],
            RemoteCertificateValidationCallback = (_, _, _, _) => true,
        });
        var payload = body ?? string.Empty;
        var head = $"{method} {target} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n"
            + (body is null ? string.Empty : $"Content-Type: application/json\r\nContent-Length: {Encoding.UTF8.GetByteCount(payload)}\r\n")
            + "\r\n" + payload;
        await tls.WriteAsync(Encoding.ASCII.GetBytes(head));
        using var reader = new StreamReader(tls, Encoding.UTF8);
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(15));
        var answer = await reader.ReadToEndAsync(timeout.Token);
        var status = int.Parse(answer.AsSpan(9, 3), System.Globalization.CultureInfo.InvariantCulture);
        var split = answer.IndexOf("\r\n\r\n", StringComparison.Ordinal);
        return (status, split < 0 ? string.Empty : answer[(split + 4)..]);
    }
}
