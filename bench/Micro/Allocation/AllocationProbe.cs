using System.Diagnostics;
using System.Net;
using System.Security.Cryptography.X509Certificates;
using Gatehouse.Config;
using Gatehouse.Hosting;
using Gatehouse.Wire;

namespace Gatehouse.Bench.Allocation;

/// <summary>
/// Bytes allocated per keep-alive proxied GET (issue 9), measured over the whole process with
/// GC.GetTotalAllocatedBytes: the client and the backend allocate nothing per request, so what the
/// gateway-less baseline shows is the runtime's own share and the rest is Gatehouse's.
/// Run: <c>dotnet run -c Release --project bench/Micro -- --allocations [--by-type]</c> (make bench-alloc);
/// --by-type adds the types the runtime's allocation-tick events sampled most.
/// </summary>
internal static class AllocationProbe
{
    private const int WarmUp = 3_000;
    private const int Measured = 20_000;
    private const int Concurrent = 32;
    private static bool s_byType;

    public static async Task<int> RunAsync(bool byType)
    {
        s_byType = byType;
        await using var backend = new RawBackend();
        var dir = Directory.CreateTempSubdirectory("gatehouse-alloc-");
        try
        {
            var ca = CertificateFactory.CreateCertificateAuthority("alloc probe CA");
            using var client = CertificateFactory.IssueClient(ca, "probe device");
            await using var gateway = StartGateway(dir.FullName, ca, backend.Port);
            var tlsPort = gateway.BoundEndpoints[0].Port;
            var plainPort = gateway.BoundEndpoints[1].Port;

            Console.WriteLine($"{Measured:N0} keep-alive GETs of a ~300-byte JSON document, one connection, after {WarmUp:N0} warm-up requests");
            Console.WriteLine("| path | bytes allocated per request | requests/s (not a benchmark) |");
            Console.WriteLine("|---|---|---|");
            await MeasureAsync("client → backend, no gateway (baseline)", backend.Port, "/api/doc.json", null);
            await MeasureAsync("through Gatehouse, plain loopback listener", plainPort, "/api/doc.json", null);
            await MeasureAsync("through Gatehouse, mTLS listener", tlsPort, "/api/doc.json", client);
            await MeasureAsync("CouchDB document through Gatehouse, mTLS (role credential injected)", tlsPort, "/couch/db/doc", client);
            await MeasureAsync("Gatehouse whoami, mTLS (no upstream)", tlsPort, "/_gatehouse/whoami", client);

            // Under load many requests wait at once, which a one-connection loop never shows: the
            // runtime's pooling builder keeps one box per thread, so there every wait missed it.
            // Plain listener only: the probe's own TLS clients would allocate SslStream's boxes too.
            Console.WriteLine();
            Console.WriteLine($"{Measured:N0} keep-alive GETs over {Concurrent} connections at once, after {WarmUp:N0} warm-up requests");
            Console.WriteLine("| path | bytes allocated per request | requests/s (not a benchmark) |");
            Console.WriteLine("|---|---|---|");
            await MeasureConcurrentAsync("client → backend, no gateway (baseline)", backend.Port);
            await MeasureConcurrentAsync("through Gatehouse, plain loopback listener", plainPort);
            return 0;
        }
        finally
        {
            dir.Delete(recursive: true);
        }
    }

    private static GatehouseServer StartGateway(string dir, X509Certificate2 ca, int backendPort)
    {
        using var server = CertificateFactory.IssueServer(ca, "localhost", ["localhost"], [IPAddress.Loopback]);
        PemFiles.WriteCertificate(Path.Join(dir, "ca.crt"), ca);
        PemFiles.WriteCertificate(Path.Join(dir, "server.crt"), server);
        PemFiles.WritePrivateKey(Path.Join(dir, "server.key"), server.GetECDsaPrivateKey()!, default);
        var configPath = Path.Join(dir, "gatehouse.json");
        File.WriteAllText(configPath, $$"""
            {
              "listen": [
                { "address": "127.0.0.1", "port": 0 },
                { "address": "127.0.0.1", "port": 0, "tls": false, "local": true, "unrestricted": true }
              ],
              "tls": { "certificate": "server.crt", "key": "server.key" },
              "trust": { "cas": [ { "name": "user", "certificate": "ca.crt" } ] },
              "routes": [
                { "kind": "proxy", "name": "api", "prefix": "/api/", "backend": "http://127.0.0.1:{{backendPort}}" },
                { "kind": "couchdb", "prefix": "/couch/" }
              ],
              "rules": [ { "principals": [ "ca:user" ], "role": "device", "proxy": [ "api" ],
                           "couchdb": { "databases": [ "db" ], "allow": [ "read" ] } } ],
              "limits": { "maxRequestsPerConnection": 1000000 }
            }
            """);
        // The raw backend stands in for CouchDB: it answers every GET with the same document.
        var environment = System.Text.Json.JsonSerializer.Deserialize(
            $$"""{ "couchdb": { "url": "http://127.0.0.1:{{backendPort}}/", "credentials": { "device": { "username": "device", "password": "probe-secret" } } } }""",
            ConfigJsonContext.Default.StdinEnvironment);
        var gateway = GatehouseServer.Create(ConfigLoader.Load(configPath), environment);
        gateway.Start();
        return gateway;
    }

    private static async Task MeasureAsync(string label, int port, string path, X509Certificate2? certificate)
    {
        await using var client = await KeepAliveClient.ConnectAsync(port, path, certificate);
        for (var i = 0; i < WarmUp; i++)
        {
            await ExpectOkAsync(client);
        }

        using var sampler = s_byType ? new AllocationSampler() : null;
        GC.Collect();
        sampler?.Start();
        var before = GC.GetTotalAllocatedBytes(precise: true);
        var clock = Stopwatch.StartNew();
        for (var i = 0; i < Measured; i++)
        {
            await ExpectOkAsync(client);
        }

        clock.Stop();
        var allocated = GC.GetTotalAllocatedBytes(precise: true) - before;
        var types = sampler?.Stop() ?? [];
        Console.WriteLine($"| {label} | {allocated / (double)Measured:N0} | {Measured / clock.Elapsed.TotalSeconds:N0} |");
        foreach (var (type, samples) in types.Take(25))
        {
            Console.WriteLine($"|   {type} | {samples} samples | |");
        }
    }

    private static async Task MeasureConcurrentAsync(string label, int port)
    {
        var clients = new KeepAliveClient[Concurrent];
        for (var i = 0; i < clients.Length; i++)
        {
            clients[i] = await KeepAliveClient.ConnectAsync(port, "/api/doc.json", null);
        }

        try
        {
            await RunAllAsync(clients, WarmUp / Concurrent);
            GC.Collect();
            var before = GC.GetTotalAllocatedBytes(precise: true);
            var clock = Stopwatch.StartNew();
            await RunAllAsync(clients, Measured / Concurrent);
            clock.Stop();
            var allocated = GC.GetTotalAllocatedBytes(precise: true) - before;
            var requests = Measured / Concurrent * Concurrent;
            Console.WriteLine($"| {label} | {allocated / (double)requests:N0} | {requests / clock.Elapsed.TotalSeconds:N0} |");
        }
        finally
        {
            foreach (var client in clients)
            {
                await client.DisposeAsync();
            }
        }
    }

    // One task per connection for the whole run (not per request), so the loop itself allocates nothing per request.
    private static Task RunAllAsync(KeepAliveClient[] clients, int requestsEach) =>
        Task.WhenAll(clients.Select(client => Task.Run(async () =>
        {
            for (var i = 0; i < requestsEach; i++)
            {
                await ExpectOkAsync(client);
            }
        })));

    [System.Runtime.CompilerServices.AsyncMethodBuilder(typeof(Gatehouse.Wire.Async.PooledValueTaskMethodBuilder))]
    private static async ValueTask ExpectOkAsync(KeepAliveClient client)
    {
        var status = await client.GetAsync();
        if (status != 200)
        {
            throw new InvalidOperationException($"expected 200, got {status}");
        }
    }
}
