using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace Gatehouse.Tests;

/// <summary>
/// Issue 19 item 4: plain HTTP sent to the TLS port gets a short plain-text 400 naming the URL to use
/// (as nginx answers), not a silent close that curl reports as "Empty reply from server". Looking at
/// the first byte costs a TLS client nothing, and a client that sends one byte and stops is still cut
/// at the handshake deadline.
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
        Assert.Contains("\r\nContent-Type: text/plain; charset=utf-8\r\n", answer, StringComparison.Ordinal);
        Assert.Contains("\r\nConnection: close\r\n", answer, StringComparison.Ordinal);
        Assert.EndsWith($"\r\n\r\nThis port speaks HTTPS: use https://127.0.0.1:{gateway.Port}/ (with your client certificate).\n", answer, StringComparison.Ordinal);
    }

    [Fact]
    public async Task CurlShowsTheReasonAndATlsClientStillGetsIn()
    {
        await using var gateway = await InProcessGateway.StartAsync();
        var plain = await Curl.RunAsync(["-o", "-", "-w", "%{http_code}", $"http://127.0.0.1:{gateway.Port}/files/x"]);
        Assert.Equal($"This port speaks HTTPS: use https://127.0.0.1:{gateway.Port}/ (with your client certificate).\n400", plain.Stdout);

        var laptop = ClientPem.Issue(gateway, "laptop");
        var tls = await Curl.RunAsync([.. laptop.CurlArgs, "--cacert", gateway.Dir.File("ca.crt"), "-o", "/dev/null", "-w", "%{http_code}", $"https://127.0.0.1:{gateway.Port}/_gatehouse/whoami"]);
        Assert.Equal("200", tls.Stdout);
    }

    [Fact]
    public async Task OneByteAndSilenceIsCutAtTheHandshakeDeadline()
    {
        await using var gateway = await InProcessGateway.StartAsync(configJson: """
            {
              "listen": [ { "address": "127.0.0.1", "port": 0 } ],
              "tls": { "certificate": "server.crt", "key": "server.key" },
              "trust": { "cas": [ { "name": "user", "certificate": "ca.crt" } ] },
              "routes": [ { "kind": "files", "prefix": "/files/", "stores": [ "store" ] } ],
              "rules": [ { "principals": [ "ca:user" ], "role": "device", "files": [ "read" ] } ],
              "limits": { "handshakeTimeout": 1 }
            }
            """);
        foreach (var first in new byte[] { (byte)'G', 0x16 })
        {
            using var tcp = new TcpClient();
            await tcp.ConnectAsync(IPAddress.Loopback, gateway.Port);
            var stream = tcp.GetStream();
            var clock = Stopwatch.StartNew();
            await stream.WriteAsync(new[] { first });

            var buffer = new byte[512];
            var read = await stream.ReadAsync(buffer).AsTask().WaitAsync(TimeSpan.FromSeconds(10));

            Assert.Equal(0, read);
            Assert.InRange(clock.Elapsed, TimeSpan.FromSeconds(0.9), TimeSpan.FromSeconds(5));
        }
    }
}
