using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Security.Cryptography.X509Certificates;
using Xunit.Abstractions;

namespace Gatehouse.Tests;

/// <summary>
/// Issue 18 item 4 on the real executable: three pouchdb-server processes stand in for a CouchDB
/// cluster's nodes. One is killed under load and started again on its port: the gateway skips it
/// (passive health, shown in the metrics), retries what it can, and lets it back in when it answers.
/// </summary>
public sealed class CouchNodeFailoverTests(ITestOutputHelper output) : IAsyncLifetime
{
    private const string DevicePassword = TestSecrets.CouchDevicePassword;
    private readonly TempDirectory _dir = new();
    private readonly PouchDbServer?[] _nodes = new PouchDbServer?[3];
    private GatehouseProcess _gatehouse = null!;
    private X509Certificate2 _key = null!;
    private int _port;
    private HttpClient _local = null!;

    public async Task InitializeAsync()
    {
        for (var i = 0; i < _nodes.Length; i++)
        {
            _nodes[i] = await StartNodeAsync(port: 0);
        }

        await ProcessTests.InitPlainAsync(_dir);
        _key = ProcessTests.InitClientCertificate(_dir);
        await File.WriteAllTextAsync(_dir.File("gatehouse.json"), """
            {
              "listen": [ { "address": "127.0.0.1", "port": 0 }, { "address": "127.0.0.1", "port": 0, "tls": false, "local": true } ],
              "tls": { "certificate": "server.crt", "key": "server.key" },
              "trust": { "cas": [ { "name": "user", "certificate": "ca.crt" } ] },
              "routes": [ { "kind": "couchdb", "prefix": "/couch/" } ],
              "rules": [ { "principals": [ "ca:user" ], "role": "device", "couchdb": { "databases": [ "*" ], "allow": [ "pull", "read", "write" ] } } ]
            }
            """);
        var urls = string.Join(", ", _nodes.Select(n => $"\"{n!.Url}\""));
        var environment = $$"""{ "couchdb": { "url": [ {{urls}} ], "credentials": { "device": { "username": "device", "password": "{{DevicePassword}}" } } } }""";
        _gatehouse = GatehouseProcess.Start(environment, "serve", "--config", _dir.File("gatehouse.json"), "--env-stdin", "--log-level", "Warning");
        var ready = await _gatehouse.WaitReadyAsync();
        _port = ready.GetProperty("listen")[0].GetProperty("port").GetInt32();
        _local = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{ready.GetProperty("listen")[1].GetProperty("port").GetInt32()}/") };
    }

    public async Task DisposeAsync()
    {
        _local?.Dispose();
        _gatehouse?.Dispose();
        foreach (var node in _nodes)
        {
            if (node is not null)
            {
                await node.DisposeAsync();
            }
        }

        _key?.Dispose();
        _dir.Dispose();
    }

    [Fact]
    public async Task ANodeKilledUnderLoadIsSkippedAndLetBackInWhenItReturns()
    {
        var victim = _nodes[1]!;
        var victimPort = victim.Port;
        var results = new List<(TimeSpan At, string Method, int Status)>();
        var clock = Stopwatch.StartNew();
        var endpoint = new IPEndPoint(IPAddress.Loopback, _port);
        using var stopLoad = new CancellationTokenSource();

        // Four clients, GETs and PUTs, for as long as the test runs (bounded below).
        var load = Enumerable.Range(0, 4).Select(async worker =>
        {
            var n = 0;
            while (!stopLoad.IsCancellationRequested && clock.Elapsed < TimeSpan.FromSeconds(60))
            {
                await using var client = await KeepAliveClient.OpenAsync(endpoint, _key);
                while (!stopLoad.IsCancellationRequested && clock.Elapsed < TimeSpan.FromSeconds(60))
                {
                    var put = n++ % 4 == 0;
                    int status;
                    try
                    {
                        status = put
                            ? await PutAsync(client, $"/couch/dmedia-0/w{worker}-{n}")
                            : await client.GetStatusAsync("/couch/dmedia-0");
                    }
                    catch (Exception ex) when (ex is IOException or InvalidOperationException or OperationCanceledException)
                    {
                        status = 0; // the gateway closed the connection (an answer cut off mid-way)
                    }

                    lock (results)
                    {
                        results.Add((clock.Elapsed, put ? "PUT" : "GET", status));
                    }

                    if (status == 0)
                    {
                        break;
                    }
                }
            }
        }).ToArray();

        await Task.Delay(TimeSpan.FromSeconds(1.5)); // load running on all three nodes
        var killedAt = clock.Elapsed;
        await victim.DisposeAsync();
        _nodes[1] = null;
        await WaitForMetricAsync("gatehouse_upstream_node_up", victimPort, 0, TimeSpan.FromSeconds(10));
        var markedDownAt = clock.Elapsed;
        using (var status = System.Text.Json.JsonDocument.Parse(await _local.GetStringAsync("_gatehouse/status")))
        {
            var states = status.RootElement.GetProperty("upstreams").EnumerateArray()
                .ToDictionary(n => n.GetProperty("upstream").GetString()!, n => n.GetProperty("state").GetString());
            Assert.Equal("down", states[$"http://127.0.0.1:{victimPort}/"]);
            Assert.Equal(2, states.Values.Count(state => state == "up"));
        }

        await Task.Delay(TimeSpan.FromSeconds(1.5)); // load running on two nodes
        var restartBegan = clock.Elapsed;
        _nodes[1] = await StartNodeAsync(victimPort);
        var restartedAt = clock.Elapsed;
        var connectsBefore = await MetricAsync("gatehouse_upstream_connects_total", victimPort);
        await WaitForMetricAsync("gatehouse_upstream_node_up", victimPort, 1, TimeSpan.FromSeconds(30));
        var backAt = clock.Elapsed;
        var deadline = Stopwatch.StartNew();
        while (await MetricAsync("gatehouse_upstream_connects_total", victimPort) <= connectsBefore && deadline.Elapsed < TimeSpan.FromSeconds(30))
        {
            await Task.Delay(100);
        }

        await stopLoad.CancelAsync();
        await Task.WhenAll(load);

        // The node's port opens before this test has made its user and database there: a probe may let
        // it back in meanwhile, and its own 401/404 answers then are the node's, not the gateway's.
        var settingUp = results.Where(r => r.Status is 401 or 404 && r.At >= restartBegan && r.At <= restartedAt).ToList();
        var failed = results.Where(r => r.Status != 200 && r.Status != 201 && !settingUp.Contains(r)).ToList();
        var failedGets = failed.Count(r => r.Method == "GET");
        output.WriteLine($"{results.Count} requests; killed at {killedAt.TotalSeconds:F2} s, marked down {(markedDownAt - killedAt).TotalMilliseconds:F0} ms later, restarted at {restartedAt.TotalSeconds:F2} s, let back in {(backAt - restartedAt).TotalMilliseconds:F0} ms after that");
        output.WriteLine($"answered by the node while it was being set up again: {settingUp.Count}");
        output.WriteLine($"failed: {failed.Count} ({failedGets} GET, {failed.Count - failedGets} PUT): {string.Join(", ", failed.GroupBy(r => (r.Method, r.Status)).Select(g => $"{g.Count()} x {g.Key.Method} {g.Key.Status}"))}");
        if (failed.Count > 0)
        {
            output.WriteLine($"failures between {failed.Min(r => r.At).TotalSeconds:F2} s and {failed.Max(r => r.At).TotalSeconds:F2} s");
        }

        Assert.True(results.Count > 100, $"only {results.Count} requests ran");
        Assert.True(await MetricAsync("gatehouse_upstream_connects_total", victimPort) > connectsBefore, "the returned node got no new connection");
        // Every failure is a write whose node died under it (never retried: it may have been applied) or
        // an answer cut off mid-way; an idempotent request that failed before its answer began went to another node.
        Assert.All(failed, r => Assert.True(r.Method == "PUT" || r.Status == 0, $"{r.Method} {r.Status} at {r.At.TotalSeconds:F2} s"));
        Assert.All(failed, r => Assert.True(r.At >= killedAt && r.At <= markedDownAt + TimeSpan.FromSeconds(1), $"{r.Method} {r.Status} at {r.At.TotalSeconds:F2} s, outside the failover"));
    }

    private static async Task<int> PutAsync(KeepAliveClient client, string path)
    {
        var head = await client.SendRawAsync($"PUT {path} HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n{{}}");
        var length = head.Split("\r\n").First(l => l.StartsWith("content-length:", StringComparison.OrdinalIgnoreCase));
        await client.ReadBodyAsync(int.Parse(length["content-length:".Length..].Trim(), CultureInfo.InvariantCulture));
        return int.Parse(head.AsSpan(9, 3), CultureInfo.InvariantCulture);
    }

    private static async Task<PouchDbServer> StartNodeAsync(int port)
    {
        var node = await PouchDbServer.StartAsync(port);
        await node.CreateUserAsync("device", DevicePassword);
        await node.CreateDatabaseAsync("dmedia-0", "device");
        return node;
    }

    private async Task<double> MetricAsync(string name, int port)
    {
        var text = await _local.GetStringAsync("_gatehouse/metrics");
        return PrometheusSamples.Sample(text, name, $"{{upstream=\"http://127.0.0.1:{port}/\"}}");
    }

    private async Task WaitForMetricAsync(string name, int port, double value, TimeSpan timeout)
    {
        var deadline = Stopwatch.StartNew();
        while (await MetricAsync(name, port) != value)
        {
            if (deadline.Elapsed > timeout)
            {
                throw new TimeoutException($"{name} of port {port} never became {value.ToString(CultureInfo.InvariantCulture)}");
            }

            await Task.Delay(50);
        }
    }
}
