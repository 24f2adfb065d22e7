using System.Net;

namespace Gatehouse.Tests;

/// <summary>The real executable's access lines on stderr: on by default, left out with <c>--no-access-log</c> while every other line stays.</summary>
public sealed class AccessLogProcessTests
{
    private const int SigTerm = 15;

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task AccessLinesFollowTheFlag(bool noAccessLog)
    {
        using var dir = new TempDirectory();
        await ProcessTests.InitPlainAsync(dir);
        string[] args = noAccessLog
            ? ["serve", "--config", dir.File("gatehouse.json"), "--no-access-log"]
            : ["serve", "--config", dir.File("gatehouse.json")];
        using var gatehouse = GatehouseProcess.Start(null, args);
        var ready = await gatehouse.WaitReadyAsync();
        var port = ready.GetProperty("listen")[0].GetProperty("port").GetInt32();

        using var client = ProcessTests.InitClientCertificate(dir);
        using var handler = new SocketsHttpHandler
        {
            SslOptions = { ClientCertificates = [client], RemoteCertificateValidationCallback = (_, _, _, _) => true },
        };
        using var http = new HttpClient(handler) { BaseAddress = new Uri($"https://localhost:{port}/") };
        using (var response = await http.GetAsync("no-such-route"))
        {
            Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        }

        gatehouse.Signal(SigTerm);
        Assert.Equal(0, await gatehouse.WaitForExitAsync(TimeSpan.FromSeconds(30)));

        var stderr = gatehouse.StandardError;
        Assert.Contains("\"Message\":\"stopped\"", stderr, StringComparison.Ordinal); // the other lines stay
        Assert.Equal(!noAccessLog, stderr.Contains("\"Category\":\"Gatehouse.Access\",\"Message\":\"GET /no-such-route 404", StringComparison.Ordinal));
    }
}
