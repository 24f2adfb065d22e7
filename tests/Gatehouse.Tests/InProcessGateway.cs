using System.Net;
using System.Net.Http;
using System.Net.Security;
using System.Security.Cryptography.X509Certificates;
using Gatehouse.Config;
using Gatehouse.Hosting;
using Gatehouse.Wire;

namespace Gatehouse.Tests;

/// <summary>
/// A gateway started in-process on port 0 from a config, with a user CA, a server certificate
/// and helpers to make clients that present a given certificate and pin the server's key.
/// </summary>
public sealed class InProcessGateway : IAsyncDisposable
{
    private InProcessGateway(TempDirectory dir, GatehouseServer server, X509Certificate2 ca)
    {
        Dir = dir;
        Server = server;
        Ca = ca;
    }

    public TempDirectory Dir { get; }

    public GatehouseServer Server { get; }

    public X509Certificate2 Ca { get; }

    public int Port => Server.BoundEndpoints[0].Port;

    /// <summary>The bound port of the listener at <paramref name="index"/> in config order.</summary>
    public int PortOf(int index) => Server.BoundEndpoints[index].Port;

    /// <param name="configJson">Replaces the default config (ca.crt, server.crt/key and store/ are still written).</param>
    /// <param name="prepare">Runs before the config is loaded (to write files it names).</param>
    /// <param name="options">Loggers or a policy for the server.</param>
    /// <param name="reloadable">Build the server from the file (with <paramref name="configJson"/>, not <paramref name="edit"/>), so it can reload.</param>
    public static async Task<InProcessGateway> StartAsync(
        Func<GatehouseConfig, GatehouseConfig>? edit = null,
        string address = "::",
        StdinEnvironment? environment = null,
        string? configJson = null,
        Action<TempDirectory>? prepare = null,
        GatehouseServerOptions? options = null,
        bool reloadable = false)
    {
        var dir = new TempDirectory();
        var ca = CertificateFactory.CreateCertificateAuthority("test user CA");
        using var server = CertificateFactory.IssueServer(ca, "localhost", ["localhost"], [IPAddress.Loopback, IPAddress.IPv6Loopback]);
        PemFiles.WriteCertificate(dir.File("ca.crt"), ca);
        PemFiles.WriteCertificate(dir.File("server.crt"), server);
        PemFiles.WritePrivateKey(dir.File("server.key"), server.GetECDsaPrivateKey()!, default);
        Directory.CreateDirectory(dir.File("store"));
        var json = $$"""
            {
              "listen": [ { "address": "{{address}}", "port": 0 } ],
              "tls": { "certificate": "server.crt", "key": "server.key" },
              "trust": { "cas": [ { "name": "user", "certificate": "ca.crt" } ] },
              "routes": [ { "kind": "files", "prefix": "/files/", "stores": [ "store" ] } ],
              "rules": [ { "principals": [ "ca:user" ], "role": "device", "files": [ "read" ] } ],
              "limits": { "handshakeTimeout": 5 }
            }
            """;
        prepare?.Invoke(dir);
        await File.WriteAllTextAsync(dir.File("gatehouse.json"), configJson ?? json);
        GatehouseServer gateway;
        if (reloadable)
        {
            gateway = GatehouseServer.CreateFromFile(dir.File("gatehouse.json"), environment, TestLogFile.Options(options));
        }
        else
        {
            var config = ConfigLoader.Load(dir.File("gatehouse.json"));
            config = edit?.Invoke(config) ?? config;
            gateway = GatehouseServer.Create(config, environment, TestLogFile.Options(options));
        }

        gateway.Start();
        return new InProcessGateway(dir, gateway, ca);
    }

    /// <summary>An HttpClient presenting <paramref name="clientCertificate"/> and trusting the server only by its pin.</summary>
    public HttpClient CreateClient(X509Certificate2? clientCertificate, string host = "localhost")
    {
        var serverPin = Server.Pin;
        var handler = new SocketsHttpHandler
        {
            SslOptions = new SslClientAuthenticationOptions
            {
                ClientCertificates = clientCertificate is null ? null : [clientCertificate],
                RemoteCertificateValidationCallback = (_, certificate, _, _) =>
                    certificate is not null && KeyPin.Compute(new X509Certificate2(certificate)) == serverPin,
            },
            PooledConnectionLifetime = TimeSpan.FromSeconds(30),
        };
        return new HttpClient(handler) { BaseAddress = new Uri($"https://{host}:{Port}/"), Timeout = TimeSpan.FromSeconds(30) };
    }

    public async ValueTask DisposeAsync()
    {
        await Server.DisposeAsync();
        Ca.Dispose();
        Dir.Dispose();
    }
}
