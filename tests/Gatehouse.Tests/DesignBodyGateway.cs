using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Authentication;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using System.Text.Json;
using Gatehouse.Config;
using Gatehouse.Wire;

namespace Gatehouse.Tests;

/// <summary>
/// pouchdb-server behind the gateway for issue 17 item 2: the `device` CouchDB user is an admin of
/// database designs-0, so pouchdb-server itself would store any design document it is sent. The
/// user's devices (CA) may pull, push, read, write and create but have no design grant; a pinned
/// "designer" key has the same rule plus design.
/// </summary>
public sealed class DesignBodyGateway : IAsyncLifetime
{
    public const string Database = "designs-0";

    private InProcessGateway? _gateway;

    public PouchDbServer Couch { get; private set; } = null!;

    public InProcessGateway Gateway => _gateway!;

    public X509Certificate2 Device { get; private set; } = null!;

    public X509Certificate2 Designer { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        Couch = await PouchDbServer.StartAsync();
        await Couch.CreateUserAsync("device", CouchGateway.DevicePassword);
        using (var create = await Couch.Admin.PutAsync(Database, null))
        {
            Assert.True(create.IsSuccessStatusCode, await create.Content.ReadAsStringAsync());
        }

        var security = """{ "admins": { "names": ["device"], "roles": [] }, "members": { "names": ["device"], "roles": [] } }""";
        using (var put = await Couch.Admin.PutAsync($"{Database}/_security", PouchDbServer.Json(security)))
        {
            Assert.True(put.IsSuccessStatusCode, await put.Content.ReadAsStringAsync());
        }

        Designer = CertificateFactory.CreateSelfSignedClient("designer");
        var designerPin = KeyPin.Compute(Designer);
        var environment = JsonSerializer.Deserialize(
            $$"""
            { "couchdb": { "url": "{{Couch.Url}}",
                           "credentials": { "device": { "username": "device", "password": "{{CouchGateway.DevicePassword}}" } } } }
            """,
            ConfigJsonContext.Default.StdinEnvironment);
        _gateway = await InProcessGateway.StartAsync(
            config =>
            {
                config.Trust.Pins.Add(new PinConfig { Name = "designer", Pin = designerPin });
                config.Routes.Add(new RouteConfig { Kind = "couchdb", Prefix = "/couch/" });
                config.Rules =
                [
                    new RuleConfig
                    {
                        Principals = ["ca:user"],
                        Role = "device",
                        Couchdb = new CouchRuleConfig { Databases = ["*"], Allow = ["pull", "push", "read", "write", "create"] },
                    },
                    new RuleConfig
                    {
                        Principals = ["pinned:designer"],
                        Role = "device",
                        Couchdb = new CouchRuleConfig { Databases = ["*"], Allow = ["pull", "push", "read", "write", "create", "design"] },
                    },
                ];
                return config;
            },
            environment: environment);
        Device = CertificateFactory.IssueClient(Gateway.Ca, "alice-laptop");
    }

    /// <summary>The whole answer to the last raw request, for a failing assertion to show.</summary>
    public string LastAnswer { get; private set; } = "";

    public HttpClient DeviceClient() => Gateway.CreateClient(Device);

    public HttpClient DesignerClient() => Gateway.CreateClient(Designer);

    /// <summary>The document's status as pouchdb-server itself answers its admin: 200 or 404.</summary>
    public async Task<HttpStatusCode> StoredStatusAsync(string id)
    {
        using var response = await Couch.Admin.GetAsync($"{Database}/{id}");
        return response.StatusCode;
    }

    /// <summary>
    /// Sends one request over a raw TLS socket with a chunked body cut into <paramref name="pieces"/>
    /// (each its own chunk, flushed, with a pause), and returns the status line's code. Reading runs
    /// alongside writing, so an answer that comes before the body is done is still seen.
    /// </summary>
    public async Task<int> SendChunkedAsync(X509Certificate2 certificate, string method, string target, IEnumerable<byte[]> pieces, TimeSpan pause) =>
        await SendRawAsync(certificate, method, target, pieces, pause, contentLength: null);

    /// <summary>As <see cref="SendChunkedAsync"/>, but the pieces go as one Content-Length body when <paramref name="contentLength"/> is set.</summary>
    public async Task<int> SendRawAsync(X509Certificate2 certificate, string method, string target, IEnumerable<byte[]> pieces, TimeSpan pause, long? contentLength)
    {
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        using var tcp = new TcpClient(AddressFamily.InterNetworkV6);
        await tcp.ConnectAsync(new IPEndPoint(IPAddress.IPv6Loopback, Gateway.Port), cts.Token);
        await using var tls = new SslStream(tcp.GetStream());
        await tls.AuthenticateAsClientAsync(
            new SslClientAuthenticationOptions
            {
                TargetHost = "localhost",
                ClientCertificates = [certificate],
                CertificateRevocationCheckMode = X509RevocationMode.NoCheck,
                RemoteCertificateValidationCallback = (_, cert, _, _) => cert is X509Certificate2 c && KeyPin.Compute(c) == Gateway.Server.Pin,
            },
            cts.Token);
        var framing = contentLength is { } length ? $"Content-Length: {length}" : "Transfer-Encoding: chunked";
        var head = $"{method} {target} HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n{framing}\r\nConnection: close\r\n\r\n";
        await tls.WriteAsync(Encoding.ASCII.GetBytes(head), cts.Token);
        var answer = ReadToEndAsync(tls, cts.Token);
        try
        {
            foreach (var piece in pieces)
            {
                if (contentLength is null)
                {
                    await tls.WriteAsync(Encoding.ASCII.GetBytes($"{piece.Length:X}\r\n"), cts.Token);
                }

                await tls.WriteAsync(piece, cts.Token);
                if (contentLength is null)
                {
                    await tls.WriteAsync("\r\n"u8.ToArray(), cts.Token);
                }

                await tls.FlushAsync(cts.Token);
                if (answer.IsCompleted)
                {
                    break;
                }

                await Task.Delay(pause, cts.Token);
            }

            if (!answer.IsCompleted && contentLength is null)
            {
                await tls.WriteAsync("0\r\n\r\n"u8.ToArray(), cts.Token);
            }
        }
        catch (IOException)
        {
            // The gateway refused and closed while the body was still going: its answer was read alongside.
        }

        var text = await answer;
        LastAnswer = text;
        Assert.StartsWith("HTTP/1.1 ", text);
        return int.Parse(text.AsSpan(9, 3), System.Globalization.CultureInfo.InvariantCulture);
    }

    private static async Task<string> ReadToEndAsync(SslStream tls, CancellationToken cancellationToken)
    {
        var received = new MemoryStream();
        var buffer = new byte[16 * 1024];
        try
        {
            while (await tls.ReadAsync(buffer, cancellationToken) is var read and > 0)
            {
                received.Write(buffer, 0, read);
            }
        }
        catch (IOException) when (received.Length > 0)
        {
            // A reset after the answer: what was read is the answer.
        }

        return Encoding.UTF8.GetString(received.ToArray());
    }

    public async Task DisposeAsync()
    {
        if (_gateway is not null)
        {
            await _gateway.DisposeAsync();
        }

        await Couch.DisposeAsync();
        Device?.Dispose();
        Designer?.Dispose();
    }
}
