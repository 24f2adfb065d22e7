using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Text;
using Gatehouse.Testing;
using Gatehouse.Wire;

namespace Gatehouse.Tests;

/// <summary>
/// A small proxied answer must leave as one TLS record: every extra record is an extra encryption,
/// an extra send on the gateway and an extra decryption and read on the client (issue 9 counted
/// 3 sends per proxied GET where one client write and one upstream write are the work).
/// The client counts the records it receives beneath its own SslStream.
/// </summary>
public sealed class ResponseRecordTests
{
    [Fact]
    public async Task SmallProxiedAnswerLeavesInOneTlsRecord()
    {
        await using var backend = new AbortProbeBackend();
        await using var gateway = await InProcessGateway.StartAsync(configJson: $$"""
            {
              "listen": [ { "address": "127.0.0.1", "port": 0 } ],
              "tls": { "certificate": "server.crt", "key": "server.key" },
              "trust": { "cas": [ { "name": "user", "certificate": "ca.crt" } ] },
              "routes": [ { "kind": "proxy", "name": "app", "prefix": "/app/", "backend": "http://127.0.0.1:{{backend.Port}}" } ],
              "rules": [ { "principals": [ "ca:user" ], "proxy": [ "app" ] } ]
            }
            """);
        using var certificate = CertificateFactory.IssueClient(gateway.Ca, "alice-laptop");
        using var tcp = new TcpClient(AddressFamily.InterNetwork);
        await tcp.ConnectAsync(IPAddress.Loopback, gateway.Port);
        var records = new TlsRecordCounter(tcp.GetStream());
        await using var tls = new SslStream(records);
        await tls.AuthenticateAsClientAsync(new SslClientAuthenticationOptions
        {
            TargetHost = "localhost",
            ClientCertificates = [certificate],
            RemoteCertificateValidationCallback = (_, _, _, _) => true,
        });

        // The first answers may share their reads with the server's session tickets; count a later one.
        for (var i = 0; i < 3; i++)
        {
            Assert.Equal("ok", await GetBodyAsync(tls, "/app/doc"));
        }

        var before = records.ApplicationRecords;
        Assert.Equal("ok", await GetBodyAsync(tls, "/app/doc"));
        Assert.Equal(1, records.ApplicationRecords - before);
    }

    private static async Task<string> GetBodyAsync(SslStream tls, string path)
    {
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        await tls.WriteAsync(Encoding.ASCII.GetBytes($"GET {path} HTTP/1.1\r\nHost: localhost\r\n\r\n"), cts.Token);
        var received = new List<byte>();
        var buffer = new byte[4096];
        while (true)
        {
            var text = Encoding.ASCII.GetString([.. received]);
            var end = text.IndexOf("\r\n\r\n", StringComparison.Ordinal);
            if (end >= 0)
            {
                var lengthLine = text[..end].Split("\r\n").First(l => l.StartsWith("content-length:", StringComparison.OrdinalIgnoreCase));
                var length = int.Parse(lengthLine["content-length:".Length..].Trim(), System.Globalization.CultureInfo.InvariantCulture);
                if (received.Count >= end + 4 + length)
                {
                    Assert.Equal(end + 4 + length, received.Count); // nothing beyond this answer was sent
                    return text[(end + 4)..];
                }
            }

            var read = await tls.ReadAsync(buffer, cts.Token);
            Assert.NotEqual(0, read);
            received.AddRange(buffer.AsSpan(0, read));
        }
    }
}
