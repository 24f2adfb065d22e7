using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Gatehouse.Config;
using Gatehouse.Hosting;
using Gatehouse.Wire;

namespace Gatehouse.Tests;

/// <summary>
/// Two complete devices on one machine (issue 8): B is a Gatehouse that trusts A's device key by
/// pin; A is a Gatehouse with a TLS listener on [::] and a plain loopback listener marked local,
/// whose peer table names B by B's server pin and addresses. Each has its own CA and certificate.
/// </summary>
internal sealed class PeerDevices : IAsyncDisposable
{
    private PeerDevices(InProcessGateway a, InProcessGateway b, X509Certificate2 deviceA, CapturedLogs aLogs, CapturedLogs bLogs)
    {
        A = a;
        B = b;
        DeviceA = deviceA;
        ALogs = aLogs;
        BLogs = bLogs;
    }

    public InProcessGateway A { get; }

    public InProcessGateway B { get; }

    /// <summary>A's server certificate, which is also what A presents to B.</summary>
    public X509Certificate2 DeviceA { get; }

    public string PinA => KeyPin.Compute(DeviceA);

    public CapturedLogs ALogs { get; }

    public CapturedLogs BLogs { get; }

    /// <summary>A's plain loopback listener (the second in its config).</summary>
    public int ALoopbackPort => A.PortOf(1);

    /// <summary>A well-formed pin of no key anyone has.</summary>
    public static string RandomPin() => KeyPin.Prefix + Convert.ToBase64String(RandomNumberGenerator.GetBytes(32));

    /// <summary>A loopback port with nothing listening (connect is refused at once).</summary>
    public static int DeadPort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    /// <param name="addresses">A's addresses for B, given B's port; default 127.0.0.1:port.</param>
    /// <param name="pinsOfB">A's pins for B, given B's real pin; default that pin.</param>
    /// <param name="localGrant">The local user's peers grant on A (null: no grant).</param>
    /// <param name="editB">Adds B's routes and rules for A (A is trusted as "pinned:device-a").</param>
    /// <param name="editA">Adds A's own routes and rules (a CouchDB of its own, say).</param>
    public static async Task<PeerDevices> StartAsync(
        Func<int, string[]>? addresses = null,
        Func<string, string[]>? pinsOfB = null,
        string? localGrant = "B",
        Action<GatehouseConfig>? editB = null,
        StdinEnvironment? environmentB = null,
        Action<GatehouseConfig>? editA = null,
        StdinEnvironment? environmentA = null)
    {
        var aLogs = new CapturedLogs();
        var bLogs = new CapturedLogs();
        using var caA = CertificateFactory.CreateCertificateAuthority("device A's CA");
        var deviceA = CertificateFactory.IssueServer(caA, "device-a", ["localhost"], [IPAddress.Loopback, IPAddress.IPv6Loopback]);
        var pinA = KeyPin.Compute(deviceA);

        var b = await InProcessGateway.StartAsync(
            config =>
            {
                config.Trust.Pins.Add(new PinConfig { Name = "device-a", Pin = pinA });
                editB?.Invoke(config);
                return config;
            },
            environment: environmentB,
            options: new GatehouseServerOptions { Loggers = bLogs.Factory });

        InProcessGateway? a = null;
        try
        {
            var peerAddresses = addresses?.Invoke(b.Port) ?? [$"127.0.0.1:{b.Port}"];
            var peerPins = pinsOfB?.Invoke(b.Server.Pin) ?? [b.Server.Pin];
            var grant = localGrant is null ? string.Empty : $$""", "peers": [ "{{localGrant}}" ]""";
            var json = $$"""
                {
                  "listen": [ { "address": "::", "port": 0 },
                              { "address": "127.0.0.1", "port": 0, "tls": false, "local": true } ],
                  "tls": { "certificate": "server.crt", "key": "server.key" },
                  "trust": { "cas": [ { "name": "user", "certificate": "ca.crt" } ] },
                  "peers": [ { "name": "B", "pins": [ {{Quoted(peerPins)}} ], "addresses": [ {{Quoted(peerAddresses)}} ] } ],
                  "rules": [ { "principals": [ "local" ]{{grant}} },
                             { "principals": [ "ca:user" ], "peers": [ "*" ] } ],
                  "limits": { "handshakeTimeout": 5 }
                }
                """;
            a = await InProcessGateway.StartAsync(
                edit: config =>
                {
                    editA?.Invoke(config);
                    return config;
                },
                environment: environmentA,
                configJson: json,
                prepare: dir =>
                {
                    // A's own device key, made before B started so B could pin it.
                    PemFiles.WriteCertificate(dir.File("server.crt"), deviceA);
                    File.Delete(dir.File("server.key"));
                    PemFiles.WritePrivateKey(dir.File("server.key"), deviceA.GetECDsaPrivateKey()!, default);
                },
                options: new GatehouseServerOptions { Loggers = aLogs.Factory });
        }
        catch
        {
            await b.DisposeAsync();
            deviceA.Dispose();
            throw;
        }

        return new PeerDevices(a, b, deviceA, aLogs, bLogs);
    }

    /// <summary>A local app on A: plain HTTP to the loopback listener, no certificate.</summary>
    public HttpClient LocalClient() =>
        new(new SocketsHttpHandler { UseProxy = false }) { BaseAddress = new Uri($"http://127.0.0.1:{ALoopbackPort}/"), Timeout = TimeSpan.FromSeconds(30) };

    public async ValueTask DisposeAsync()
    {
        await A.DisposeAsync();
        await B.DisposeAsync();
        DeviceA.Dispose();
        ALogs.Dispose();
        BLogs.Dispose();
    }

    private static string Quoted(IEnumerable<string> values) => string.Join(", ", values.Select(v => "\"" + v + "\""));
}
