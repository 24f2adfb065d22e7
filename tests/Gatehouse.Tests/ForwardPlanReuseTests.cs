using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Cryptography.X509Certificates;
using System.Text;

namespace Gatehouse.Tests;

/// <summary>
/// A client connection keeps one forward plan (identity headers, headers to drop, target) for all
/// its keep-alive requests (issue 9). Each forward must send its own route's and request's only:
/// two requests to two routes with different identity-header names, over one TLS connection.
/// </summary>
public sealed class ForwardPlanReuseTests
{
    [Fact]
    public async Task SecondForwardOnAConnectionCarriesNoneOfTheFirstOnesIdentityHeadersOrTarget()
    {
        await using var first = new RecordingBackend();
        await using var second = new RecordingBackend();
        await using var gateway = await InProcessGateway.StartAsync(
            configJson: FrontConfig.Json($$"""
                [ { "kind": "proxy", "name": "a", "prefix": "/a/", "backend": "http://127.0.0.1:{{first.Port}}",
                    "access": { "usersFile": "users.passwd" }, "headers": { "user": "X-A-User", "forwardedHost": "X-A-Host" } },
                  { "kind": "proxy", "name": "b", "prefix": "/b/", "stripPrefix": false, "backend": "http://127.0.0.1:{{second.Port}}",
                    "access": { "usersFile": "users.passwd" } } ]
                """),
            prepare: FrontConfig.WriteUsers);
        await using var client = await BasicClient.OpenAsync(gateway.PortOf(0));

        Assert.Equal(200, await client.GetAsync("/a/one/%C3%A9?q=1", "first.example", "X-A-User: mallory\r\n"));
        // Route b does not configure X-A-User, so a client copy of it passes: proof that route a's
        // list of names to drop was not carried over.
        Assert.Equal(200, await client.GetAsync("/b/two", "second.example", "X-A-User: mallory\r\n"));

        Assert.Single(first.Heads);
        Assert.Single(second.Heads);
        var a = first.Heads.Single();
        Assert.StartsWith("GET /one/%C3%A9?q=1 HTTP/1.1\r\n", a, StringComparison.Ordinal);
        Assert.Equal(["alice"], Values(a, "X-A-User"));
        Assert.Equal(["first.example"], Values(a, "X-A-Host"));
        Assert.Empty(Values(a, "X-Gatehouse-User"));

        var b = second.Heads.Single();
        Assert.StartsWith("GET /b/two HTTP/1.1\r\n", b, StringComparison.Ordinal);
        Assert.Equal(["mallory"], Values(b, "X-A-User"));
        Assert.Empty(Values(b, "X-A-Host"));
        Assert.Equal(["alice"], Values(b, "X-Gatehouse-User"));
        Assert.Equal(["second.example"], Values(b, "X-Forwarded-Host"));
    }

    private static List<string> Values(string head, string name) =>
        [.. head.Split("\r\n").Skip(1)
            .Where(line => line.StartsWith(name + ":", StringComparison.OrdinalIgnoreCase))
            .Select(line => line[(name.Length + 1)..].Trim())];

    /// <summary>One TLS keep-alive connection without a client certificate, logging in with Basic on every request.</summary>
    private sealed class BasicClient(TcpClient tcp, SslStream tls) : IAsyncDisposable
    {
        private static readonly string Login = Convert.ToBase64String(Encoding.UTF8.GetBytes("alice:" + FrontConfig.Password));
        private readonly byte[] _buffer = new byte[64 * 1024];
        private int _used;

        public static async Task<BasicClient> OpenAsync(int port)
        {
            using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(10));
            var tcp = new TcpClient(AddressFamily.InterNetworkV6);
            await tcp.ConnectAsync(new IPEndPoint(IPAddress.IPv6Loopback, port), cts.Token);
            var tls = new SslStream(tcp.GetStream());
            await tls.AuthenticateAsClientAsync(
                new SslClientAuthenticationOptions
                {
                    TargetHost = "localhost",
                    CertificateRevocationCheckMode = X509RevocationMode.NoCheck,
                    RemoteCertificateValidationCallback = (_, _, _, _) => true, // what is checked here is the forward, not the server
                },
                cts.Token);
            return new BasicClient(tcp, tls);
        }

        /// <summary>Sends a GET and reads its Content-Length framed answer; returns the status, keeping the connection.</summary>
        public async Task<int> GetAsync(string path, string host, string extraFields)
        {
            using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(30));
            await tls.WriteAsync(Encoding.Latin1.GetBytes($"GET {path} HTTP/1.1\r\nHost: {host}\r\nAuthorization: Basic {Login}\r\n{extraFields}\r\n"), cts.Token);
            int end;
            while ((end = Encoding.Latin1.GetString(_buffer, 0, _used).IndexOf("\r\n\r\n", StringComparison.Ordinal)) < 0)
            {
                await ReadMoreAsync(cts.Token);
            }

            var head = Encoding.Latin1.GetString(_buffer, 0, end);
            var lengthLine = head.Split("\r\n").First(l => l.StartsWith("content-length:", StringComparison.OrdinalIgnoreCase));
            var total = end + 4 + int.Parse(lengthLine["content-length:".Length..].Trim(), System.Globalization.CultureInfo.InvariantCulture);
            while (_used < total)
            {
                await ReadMoreAsync(cts.Token);
            }

            _used -= total;
            Array.Copy(_buffer, total, _buffer, 0, _used);
            return int.Parse(head.AsSpan(9, 3), System.Globalization.CultureInfo.InvariantCulture);
        }

        private async Task ReadMoreAsync(CancellationToken cancellationToken)
        {
            var read = await tls.ReadAsync(_buffer.AsMemory(_used), cancellationToken);
            if (read == 0)
            {
                throw new IOException("the gateway closed the connection");
            }

            _used += read;
        }

        public async ValueTask DisposeAsync()
        {
            await tls.DisposeAsync();
            tcp.Dispose();
        }
    }
}
