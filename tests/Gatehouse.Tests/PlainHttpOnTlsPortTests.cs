using System.Net;
using System.Net.Sockets;
using System.Text;

namespace Gatehouse.Tests;

/// <summary>
/// Issue 19 item 4: plain HTTP sent to the TLS port gets a short plain-text 400 naming the scheme
/// (as nginx answers), not a silent close that curl reports as "Empty reply from server".
/// </summary>
public sealed class PlainHttpOnTlsPortTests
{
    [Fact]
    public async Task APlainRequestIsToldThePortSpeaksHttps()
    {
        await using var gateway = await InProcessGateway.StartAsync();
        using var tcp = new TcpClient();
        await tcp.ConnectAsync(IPAddress.Loopback, gateway.Port);
        var stream = tcp.GetStream();
        await stream.WriteAsync(Encoding.ASCII.GetBytes("GET /files/x HTTP/1.1\r\nHost: localhost\r\n\r\n"));
        using var reader = new StreamReader(stream, Encoding.ASCII);
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        var answer = await reader.ReadToEndAsync(timeout.Token);
        Assert.StartsWith("HTTP/1.1 400 Bad Request\r\n", answer, StringComparison.Ordinal);
        Assert.EndsWith("\r\n\r\nThis port speaks HTTPS: use https:// (with your client certificate).\n", answer, StringComparison.Ordinal);
    }

    [Fact]
    public async Task CurlShowsTheReason()
    {
        await using var gateway = await InProcessGateway.StartAsync();
        var result = await Curl.RunAsync(["-sS", "-o", "-", "-w", "%{http_code}", $"http://127.0.0.1:{gateway.Port}/files/x"]);
        Assert.Contains("This port speaks HTTPS", result.Stdout, StringComparison.Ordinal);
        Assert.EndsWith("400", result.Stdout, StringComparison.Ordinal);
    }
}
