using System.Net;

namespace Gatehouse.Tests;

/// <summary>
/// A log sink that stops reading (stderr piped to a stuck journal, a terminal on hold) must not stop
/// the gateway: requests are served on the socket event threads, so a logger that waits for room
/// would freeze every connection once its queue and the pipe are full.
/// </summary>
public sealed class StalledLogSinkTests
{
    // 1 MiB of lines may wait for stderr (about 2,000 of these access lines) and the pipe holds
    // 64 KiB (a hundred more): well past both, every request still logs an access line.
    private const int Requests = 4000;

    [Fact]
    public async Task RequestsAreStillServedWhileNobodyReadsStderr()
    {
        using var dir = new TempDirectory();
        await ProcessTests.InitPlainAsync(dir);
        using var gatehouse = GatehouseProcess.StartWithStalledStderr("serve", "--config", dir.File("gatehouse.json"));
        var ready = await gatehouse.WaitReadyAsync();
        var port = ready.GetProperty("listen")[0].GetProperty("port").GetInt32();

        using var client = ProcessTests.InitClientCertificate(dir);
        using var handler = new SocketsHttpHandler
        {
            MaxConnectionsPerServer = 4,
            SslOptions =
            {
                ClientCertificates = [client],
                RemoteCertificateValidationCallback = (_, _, _, _) => true,
            },
        };
        using var http = new HttpClient(handler) { BaseAddress = new Uri($"https://localhost:{port}/") };

        var served = 0;
        var all = Task.WhenAll(Enumerable.Range(0, 4).Select(async _ =>
        {
            for (var i = 0; i < Requests / 4; i++)
            {
                using var response = await http.GetAsync("no-such-route");
                Assert.Equal(HttpStatusCode.NotFound, response.StatusCode); // refused or not, every answer is logged
                Interlocked.Increment(ref served);
            }
        }));
        var finished = await Task.WhenAny(all, Task.Delay(TimeSpan.FromSeconds(90)));
        Assert.True(finished == all, $"only {served} of {Requests} requests answered while stderr was not read");
        await all;

        // Once someone reads again, logging resumes and says how much it dropped meanwhile.
        gatehouse.StartReadingStderr();
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(60);
        while (!gatehouse.StandardError.Contains("dropped", StringComparison.Ordinal) && DateTime.UtcNow < deadline)
        {
            using var after = await http.GetAsync("no-such-route");
            Assert.Equal(HttpStatusCode.NotFound, after.StatusCode);
        }

        Assert.Contains("dropped", gatehouse.StandardError, StringComparison.Ordinal);
    }
}
