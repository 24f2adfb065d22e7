using System.Diagnostics;
using System.Net.Security;
using System.Net.Sockets;
using System.Text;

namespace Gatehouse.Tests;

/// <summary>Graceful shutdown of the real executable (issue 10): in-flight work is waited for, a second signal is not.</summary>
public sealed class ShutdownTests
{
    private const int SigTerm = 15;

    [Fact]
    public async Task SigtermRightAfterTheReadyLineStillExitsZero()
    {
        // System.CommandLine's own SIGTERM handler once raced serve's and made this exit 143
        // (8 of 10 runs of the published binary): a supervisor would log a failed stop.
        using var dir = new TempDirectory();
        await ProcessTests.InitPlainAsync(dir);
        for (var i = 0; i < 3; i++)
        {
            using var gatehouse = GatehouseProcess.Start(null, "serve", "--config", dir.File("gatehouse.json"));
            await gatehouse.WaitReadyAsync();
            gatehouse.Signal(SigTerm);
            Assert.Equal(0, await gatehouse.WaitForExitAsync(TimeSpan.FromSeconds(30)));
            // The log's last line, written in the stop's last moment, still reached stderr (lines go out in batches).
            Assert.Contains("\"Message\":\"stopped\"", gatehouse.StandardError);
        }
    }

    [Fact]
    public async Task FirstSigtermWaitsForAnInFlightUploadAndASecondExitsAtOnce()
    {
        using var dir = new TempDirectory();
        await ProcessTests.InitPlainAsync(dir);
        using var gatehouse = GatehouseProcess.Start(null, "serve", "--config", dir.File("gatehouse.json"));
        var ready = await gatehouse.WaitReadyAsync();
        var port = ready.GetProperty("listen")[0].GetProperty("port").GetInt32();

        // An upload that has sent its head and half its body: in flight, waiting for the rest.
        using var tcp = new TcpClient();
        await tcp.ConnectAsync(System.Net.IPAddress.Loopback, port);
        await using var tls = new SslStream(tcp.GetStream());
        using var client = ProcessTests.InitClientCertificate(dir);
        await tls.AuthenticateAsClientAsync(new SslClientAuthenticationOptions
        {
            TargetHost = "localhost",
            ClientCertificates = [client],
            RemoteCertificateValidationCallback = (_, _, _, _) => true,
        });
        var id = new string('a', 64);
        await tls.WriteAsync(Encoding.ASCII.GetBytes($"PUT /files/{id} HTTP/1.1\r\nHost: localhost\r\nContent-Length: 1000\r\nExpect: 100-continue\r\n\r\n"));
        // 100 Continue proves the upload handler is reading the body: the request is in flight.
        var interim = new byte[25];
        await tls.ReadExactlyAsync(interim);
        Assert.StartsWith("HTTP/1.1 100", Encoding.ASCII.GetString(interim));
        await tls.WriteAsync(Encoding.ASCII.GetBytes(new string('x', 500)));
        await tls.FlushAsync();

        gatehouse.Signal(SigTerm);
        // Still draining: the upload holds it (shutdownGrace is 10 s by default).
        var drained = await Record.ExceptionAsync(() => gatehouse.WaitForExitAsync(TimeSpan.FromMilliseconds(700)));
        Assert.True(drained is OperationCanceledException, gatehouse.StandardError);

        var clock = Stopwatch.StartNew();
        gatehouse.Signal(SigTerm);
        var code = await gatehouse.WaitForExitAsync(TimeSpan.FromSeconds(5));
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(3), $"took {clock.Elapsed}");
        Assert.Equal(1, code);
        Assert.Contains("second signal", gatehouse.StandardError);
    }
}
