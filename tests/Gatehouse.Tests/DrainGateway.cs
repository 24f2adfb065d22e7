using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using Gatehouse.Wire;

namespace Gatehouse.Tests;

/// <summary>
/// The real executable with a proxy route <c>/app/</c> to a <see cref="DrainBackend"/>: a TLS listener
/// (listen[0]) where the CA-signed key <c>init</c> made (<see cref="Key"/>) and an optional pinned key
/// may use the route, and a plain unrestricted loopback listener (listen[1]) to reach it without TLS.
/// </summary>
internal sealed class DrainGateway : IAsyncDisposable
{
    private const int SignalTerm = 15;
    private readonly TempDirectory _dir;

    private DrainGateway(TempDirectory dir, DrainBackend backend, GatehouseProcess process, int tlsPort, int localPort, X509Certificate2 key)
    {
        _dir = dir;
        Backend = backend;
        Process = process;
        TlsPort = tlsPort;
        LocalPort = localPort;
        Key = key;
    }

    public DrainBackend Backend { get; }

    public GatehouseProcess Process { get; }

    public int TlsPort { get; }

    public int LocalPort { get; }

    /// <summary>The client key <c>gatehouse init</c> made, trusted through the CA (principal <c>ca:user</c>).</summary>
    public X509Certificate2 Key { get; }

    /// <param name="graceSeconds">limits.shutdownGrace.</param>
    /// <param name="pinned">Another key, trusted by its pin and allowed the route like <see cref="Key"/>.</param>
    public static async Task<DrainGateway> StartAsync(double graceSeconds = 10, X509Certificate2? pinned = null)
    {
        var dir = new TempDirectory();
        var backend = new DrainBackend();
        await ProcessTests.InitPlainAsync(dir);
        var pins = pinned is null ? string.Empty : $$""", "pins": [ { "name": "b", "pin": "{{KeyPin.Compute(pinned)}}" } ]""";
        var principals = pinned is null ? "\"ca:user\"" : "\"ca:user\", \"pinned:b\"";
        await File.WriteAllTextAsync(dir.File("gatehouse.json"), $$"""
            {
              "listen": [
                { "address": "::", "port": 0, "tls": true, "clientCertificate": "required" },
                { "address": "127.0.0.1", "port": 0, "tls": false, "local": true, "unrestricted": true }
              ],
              "tls": { "certificate": "server.crt", "key": "server.key" },
              "trust": { "cas": [ { "name": "user", "certificate": "ca.crt" } ]{{pins}} },
              "routes": [ { "kind": "proxy", "name": "app", "prefix": "/app/", "backend": "http://127.0.0.1:{{backend.Port}}", "webSockets": true } ],
              "rules": [ { "principals": [ {{principals}} ], "role": "device", "proxy": [ "app" ] } ],
              "limits": { "shutdownGrace": {{graceSeconds.ToString(CultureInfo.InvariantCulture)}} }
            }
            """);
        var process = GatehouseProcess.Start(null, "serve", "--config", dir.File("gatehouse.json"));
        var ready = await process.WaitReadyAsync();
        var listen = ready.GetProperty("listen");
        return new DrainGateway(dir, backend, process, listen[0].GetProperty("port").GetInt32(), listen[1].GetProperty("port").GetInt32(), ProcessTests.InitClientCertificate(dir));
    }

    public IPEndPoint TlsEndPoint => new(IPAddress.Loopback, TlsPort);

    /// <summary>Connects to the loopback listener and sends <paramref name="request"/>.</summary>
    public async Task<TcpClient> SendAsync(string request)
    {
        var tcp = new TcpClient();
        await tcp.ConnectAsync(IPAddress.Loopback, LocalPort);
        await tcp.GetStream().WriteAsync(Encoding.ASCII.GetBytes(request));
        return tcp;
    }

    /// <summary>The Prometheus text of <c>/_gatehouse/metrics</c>, read over the loopback listener.</summary>
    public async Task<string> MetricsAsync()
    {
        using var tcp = await SendAsync("GET /_gatehouse/metrics HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n");
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        using var reader = new StreamReader(tcp.GetStream(), Encoding.UTF8);
        var text = await reader.ReadToEndAsync(cts.Token);
        Assert.StartsWith("HTTP/1.1 200", text);
        return text;
    }

    public Stopwatch SigTerm()
    {
        var clock = Stopwatch.StartNew();
        Process.Signal(SignalTerm);
        return clock;
    }

    public async ValueTask DisposeAsync()
    {
        Process.Dispose();
        await Backend.DisposeAsync();
        Key.Dispose();
        _dir.Dispose();
    }
}
