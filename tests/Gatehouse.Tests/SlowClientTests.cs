using System.Diagnostics;
using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using Gatehouse.Wire;

namespace Gatehouse.Tests;

/// <summary>
/// Issue 10: 2,000 slow-loris connections (headers a byte per second) hold no worker: a
/// well-behaved client keeps getting quick answers, and every slow one is closed at the
/// header timeout.
/// </summary>
public sealed class SlowClientTests
{
    private const int LorisCount = 2000;
    private readonly Xunit.Abstractions.ITestOutputHelper _output;

    public SlowClientTests(Xunit.Abstractions.ITestOutputHelper output)
    {
        _output = output;
    }

    [Fact]
    public async Task TwoThousandSlowLorisConnectionsDoNotStarveAWellBehavedClient()
    {
        await using var gateway = await InProcessGateway.StartAsync(config =>
        {
            config.Limits["headerTimeout"] = JsonSerializer.SerializeToElement(6);
            config.Limits["maxConnectionsPerAddress"] = JsonSerializer.SerializeToElement(10_000);
            config.Limits["maxConnectionsPerPrincipal"] = JsonSerializer.SerializeToElement(10_000);
            return config;
        });
        using var client = CertificateFactory.IssueClient(gateway.Ca, "alice-laptop");
        using var total = new CancellationTokenSource(TimeSpan.FromSeconds(90));

        var loris = new List<(TcpClient Tcp, SslStream Tls)>();
        try
        {
            // Open them in waves well under maxPendingHandshakesPerAddress, each sending the start of a header.
            using var gate = new SemaphoreSlim(32);
            var opening = Enumerable.Range(0, LorisCount).Select(async _ =>
            {
                await gate.WaitAsync(total.Token);
                try
                {
                    var tcp = new TcpClient();
                    await tcp.ConnectAsync(IPAddress.Loopback, gateway.Port, total.Token);
                    var tls = new SslStream(tcp.GetStream());
                    await tls.AuthenticateAsClientAsync(Options(client), total.Token);
                    await tls.WriteAsync("GET /_gatehouse/whoami HTTP/1.1\r\nHost: localhost\r\nX-Slow: "u8.ToArray(), total.Token);
                    lock (loris)
                    {
                        loris.Add((tcp, tls));
                    }
                }
                finally
                {
                    gate.Release();
                }
            }).ToList();
            await Task.WhenAll(opening);
            var started = Stopwatch.StartNew();

            // A byte a second on every slow connection, while the good client works.
            using var trickleStop = new CancellationTokenSource();
            var trickle = Task.Run(async () =>
            {
                while (!trickleStop.IsCancellationRequested)
                {
                    foreach (var (_, tls) in loris)
                    {
                        try
                        {
                            await tls.WriteAsync("a"u8.ToArray(), trickleStop.Token);
                        }
                        catch (Exception ex) when (ex is IOException or ObjectDisposedException or OperationCanceledException)
                        {
                        }
                    }

                    await Task.Delay(1000, trickleStop.Token).ContinueWith(_ => { }, TaskScheduler.Default);
                }
            });

            using var http = gateway.CreateClient(client);
            var latencies = new List<double>();
            for (var i = 0; i < 100; i++)
            {
                var clock = Stopwatch.StartNew();
                using var response = await http.GetAsync("/_gatehouse/whoami", total.Token);
                Assert.Equal(HttpStatusCode.OK, response.StatusCode);
                latencies.Add(clock.Elapsed.TotalMilliseconds);
            }

            latencies.Sort();
            var p99 = latencies[98];
            _output.WriteLine($"good client with {LorisCount} slow-loris connections open: median {latencies[49]:F1} ms, p99 {p99:F1} ms");
            Assert.True(started.Elapsed < TimeSpan.FromSeconds(5), "the good client took longer than the slow clients' header timeout; the measurement would not be under load");
            Assert.True(p99 < 250, $"p99 {p99:F1} ms with {LorisCount} slow clients open");

            // Every slow connection is closed at the header timeout (408 or plain close), none later than it plus slack.
            await trickleStop.CancelAsync();
            await trickle;
            var closed = 0;
            var buffer = new byte[512];
            using var closeDeadline = new CancellationTokenSource(TimeSpan.FromSeconds(20));
            foreach (var (_, tls) in loris)
            {
                try
                {
                    while (await tls.ReadAsync(buffer, closeDeadline.Token) > 0)
                    {
                    }

                    closed++;
                }
                catch (IOException)
                {
                    closed++;
                }
            }

            Assert.Equal(LorisCount, closed);
        }
        finally
        {
            foreach (var (tcp, tls) in loris)
            {
                tls.Dispose();
                tcp.Dispose();
            }
        }
    }

    private static SslClientAuthenticationOptions Options(System.Security.Cryptography.X509Certificates.X509Certificate2 client) => new()
    {
        TargetHost = "localhost",
        ClientCertificates = [client],
        RemoteCertificateValidationCallback = (_, _, _, _) => true,
    };
}
