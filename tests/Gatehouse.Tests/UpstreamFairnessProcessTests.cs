using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using System.Text.RegularExpressions;
using Gatehouse.Wire;
using Xunit.Abstractions;

namespace Gatehouse.Tests;

/// <summary>
/// Issue 18, items 1 and 2, on the real executable in front of a real pouchdb-server: clients that
/// leave while their request waits on a quiet CouchDB free its connection at once, and one key's
/// long feeds cannot take the connections another key's short requests need.
/// </summary>
public sealed partial class UpstreamFairnessProcessTests(ITestOutputHelper output) : IAsyncLifetime
{
    private const string DevicePassword = TestSecrets.CouchDevicePassword;
    private const string LongPoll = "/couch/dmedia-0/_changes?feed=longpoll&heartbeat=600000&since=now";

    private readonly TempDirectory _dir = new();
    private PouchDbServer _couch = null!;
    private GatehouseProcess _gatehouse = null!;
    private X509Certificate2 _keyA = null!;
    private X509Certificate2 _keyB = null!;
    private int _port;
    private HttpClient _local = null!;

    public async Task InitializeAsync()
    {
        _couch = await PouchDbServer.StartAsync();
        await _couch.CreateUserAsync("device", DevicePassword);
        await _couch.CreateDatabaseAsync("dmedia-0", "device");
        await ProcessTests.InitPlainAsync(_dir);
        _keyA = ProcessTests.InitClientCertificate(_dir);
        _keyB = CertificateFactory.CreateSelfSignedClient("key-b");
        var config = $$"""
            {
              "listen": [ { "address": "127.0.0.1", "port": 0 }, { "address": "127.0.0.1", "port": 0, "tls": false, "local": true } ],
              "tls": { "certificate": "server.crt", "key": "server.key" },
              "trust": { "cas": [ { "name": "user", "certificate": "ca.crt" } ], "pins": [ { "name": "b", "pin": "{{KeyPin.Compute(_keyB)}}" } ] },
              "routes": [ { "kind": "couchdb", "prefix": "/couch/" } ],
              "rules": [
                { "principals": [ "ca:user", "pinned:b" ], "role": "device",
                  "couchdb": { "databases": [ "*" ], "allow": [ "pull", "read" ] } }
              ]
            }
            """;
        await File.WriteAllTextAsync(_dir.File("gatehouse.json"), config);
        var environment = $$"""{ "couchdb": { "url": "{{_couch.Url}}", "credentials": { "device": { "username": "device", "password": "{{DevicePassword}}" } } } }""";
        _gatehouse = GatehouseProcess.Start(environment, "serve", "--config", _dir.File("gatehouse.json"), "--env-stdin", "--log-level", "Warning");
        var ready = await _gatehouse.WaitReadyAsync();
        _port = ready.GetProperty("listen")[0].GetProperty("port").GetInt32();
        _local = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{ready.GetProperty("listen")[1].GetProperty("port").GetInt32()}/") };
    }

    public async Task DisposeAsync()
    {
        _local?.Dispose();
        _gatehouse?.Dispose();
        await _couch.DisposeAsync();
        _keyA?.Dispose();
        _keyB?.Dispose();
        _dir.Dispose();
    }

    [Fact]
    public async Task ClientsThatLeaveAQuietLongpollFreeTheirCouchDbConnectionsWithinASecond()
    {
        const int Count = 12;
        var clients = new List<(TcpClient Tcp, SslStream Tls)>();
        for (var i = 0; i < Count; i++)
        {
            clients.Add(await SendAsync(_keyA, LongPoll));
        }

        await WaitForInUseAsync(count => count == Count, TimeSpan.FromSeconds(20));

        // Half reset (RST, no close_notify), half close as a TLS client does (close_notify, then FIN).
        var stopwatch = Stopwatch.StartNew();
        for (var i = 0; i < Count; i++)
        {
            var (tcp, tls) = clients[i];
            if (i % 2 == 0)
            {
                tcp.Client.LingerState = new LingerOption(true, 0);
                tcp.Client.Close();
            }
            else
            {
                await tls.ShutdownAsync();
                tcp.Client.Shutdown(SocketShutdown.Send);
            }
        }

        await WaitForInUseAsync(count => count == 0, TimeSpan.FromSeconds(10));
        output.WriteLine($"{Count} CouchDB connections freed {stopwatch.ElapsedMilliseconds} ms after their clients left");
        Assert.True(stopwatch.Elapsed < TimeSpan.FromSeconds(1.5), $"freed after {stopwatch.Elapsed}");
        foreach (var (tcp, tls) in clients)
        {
            await tls.DisposeAsync();
            tcp.Dispose();
        }
    }

    [Fact]
    public async Task OneKeysTwoHundredFeedsLeaveAnotherKeysShortRequestsFast()
    {
        const int Feeds = 200;
        var before = await ShortRequestLatenciesAsync(_keyB, Feeds);

        // Key A asks for 200 continuous feeds: its quarter of the 64-connection pool (16) is served,
        // the rest are refused at once with 429 and Retry-After, never queued behind the others.
        var feeds = new List<(TcpClient Tcp, SslStream Tls)>();
        var statuses = new Dictionary<int, int>();
        string? retryAfter = null;
        for (var batch = 0; batch < Feeds; batch += 10)
        {
            var opened = await Task.WhenAll(Enumerable.Range(0, 10).Select(async _ =>
            {
                var feed = await SendAsync(_keyA, "/couch/dmedia-0/_changes?feed=continuous&heartbeat=5000&since=now");
                return (feed, head: await ReadHeadAsync(feed.Tls));
            }));
            foreach (var (feed, head) in opened)
            {
                feeds.Add(feed);
                var status = int.Parse(head.AsSpan(9, 3), CultureInfo.InvariantCulture);
                statuses[status] = statuses.GetValueOrDefault(status) + 1;
                if (status == 429)
                {
                    retryAfter ??= Regex.Match(head, @"\r\nRetry-After: (\d+)\r\n", RegexOptions.IgnoreCase).Groups[1].Value;
                }
            }
        }

        output.WriteLine($"key A's {Feeds} feeds: {string.Join(", ", statuses.Select(p => $"{p.Value} x {p.Key}"))}; Retry-After {retryAfter}");
        Assert.Equal(16, statuses.GetValueOrDefault(200));
        Assert.Equal(Feeds - 16, statuses.GetValueOrDefault(429));
        Assert.False(string.IsNullOrEmpty(retryAfter));
        await WaitForInUseAsync(count => count == 16, TimeSpan.FromSeconds(10));

        // Key B's 200 short requests again, with A's feeds open: all answered, and about as fast.
        // 100 ms on a quiet machine (issue 18); the suite runs test classes side by side on two
        // cores, so a busy run is judged against B's own figure taken in the same test, and a
        // round spoiled by another process gets up to two more. Starvation would spoil all three
        // (a request waiting on the pool takes seconds, or ends 504, which fails at once).
        var bound = Math.Max(100, 2 * before.P99 + 20);
        (double Median, double P99) during = default;
        for (var round = 1; round <= 3; round++)
        {
            during = await ShortRequestLatenciesAsync(_keyB, Feeds);
            output.WriteLine($"key B, alone: median {before.Median:F1} ms, p99 {before.P99:F1} ms; beside A's feeds (round {round}): median {during.Median:F1} ms, p99 {during.P99:F1} ms");
            if (during.P99 < bound)
            {
                break;
            }
        }

        Assert.True(during.P99 < bound, $"key B's p99 was {during.P99:F1} ms beside the feeds, {before.P99:F1} ms alone");

        foreach (var (tcp, tls) in feeds)
        {
            await tls.DisposeAsync();
            tcp.Dispose();
        }

        await WaitForInUseAsync(count => count == 0, TimeSpan.FromSeconds(10));
    }

    /// <summary>Short CouchDB GETs, eight keep-alive connections at a time; every one must be a 200.</summary>
    private Task<(double Median, double P99)> ShortRequestLatenciesAsync(X509Certificate2 key, int count) =>
        ShortRequestLatencies.MeasureAsync(new IPEndPoint(IPAddress.Loopback, _port), key, "/couch/dmedia-0", count);

    private static async Task<string> ReadHeadAsync(SslStream tls)
    {
        var head = new StringBuilder();
        var buffer = new byte[4096];
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        while (!head.ToString().Contains("\r\n\r\n", StringComparison.Ordinal))
        {
            var read = await tls.ReadAsync(buffer, timeout.Token);
            if (read == 0)
            {
                throw new IOException("closed before the head ended: " + head);
            }

            head.Append(Encoding.ASCII.GetString(buffer, 0, read));
        }

        return head.ToString();
    }

    /// <summary>Sends a GET over a new TLS connection and returns it, without reading the answer.</summary>
    private async Task<(TcpClient Tcp, SslStream Tls)> SendAsync(X509Certificate2 key, string target)
    {
        var tcp = new TcpClient();
        await tcp.ConnectAsync(IPAddress.Loopback, _port);
        var tls = new SslStream(tcp.GetStream());
        await tls.AuthenticateAsClientAsync(new SslClientAuthenticationOptions
        {
            TargetHost = "localhost",
            ClientCertificates = [key],
            RemoteCertificateValidationCallback = (_, _, _, _) => true,
        });
        await tls.WriteAsync(Encoding.ASCII.GetBytes($"GET {target} HTTP/1.1\r\nHost: localhost\r\n\r\n"));
        return (tcp, tls);
    }

    /// <summary>Polls the metrics until the CouchDB connections leased to requests satisfy <paramref name="done"/>.</summary>
    private async Task<int> WaitForInUseAsync(Func<int, bool> done, TimeSpan timeout)
    {
        var deadline = Stopwatch.StartNew();
        var inUse = -1;
        while (deadline.Elapsed < timeout)
        {
            var text = await _local.GetStringAsync("_gatehouse/metrics");
            inUse = InUse().Matches(text).Sum(m => int.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture));
            if (done(inUse))
            {
                return inUse;
            }

            await Task.Delay(50);
        }

        throw new TimeoutException($"CouchDB connections in use stayed at {inUse}");
    }

    [GeneratedRegex(@"^gatehouse_upstream_pool_in_use\{[^}]*\} (\d+)$", RegexOptions.Multiline)]
    private static partial Regex InUse();
}
