using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Text;

namespace Gatehouse.Wire.Tests;

/// <summary>Issue 10: one address or one key cannot take every connection slot.</summary>
public sealed class FairnessLimitTests : IClassFixture<TestPki>
{
    private readonly TestPki pki;

    public FairnessLimitTests(TestPki pki)
    {
        this.pki = pki;
    }

    [Fact]
    public async Task ASecondConnectionFromTheSameAddressIsClosedAtAcceptButAnotherAddressGetsIn()
    {
        if (!Socket.OSSupportsIPv6)
        {
            return;
        }

        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await using Harness h = Harness.Tls(pki, IPAddress.IPv6Any, limits: new WireLimits { MaxConnectionsPerAddress = 1 }, handler: async (c, stopping) =>
        {
            await c.Stream.WriteAsync("held\n"u8.ToArray(), stopping);
            await release.Task.WaitAsync(stopping);
        });
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        var port = h.Endpoint().Port;

        using var first = await OpenAsync(new IPEndPoint(IPAddress.Loopback, port), pki.CaClient, h.ServerPin, cts.Token);
        Assert.Equal("held", await first.Reader.ReadLineAsync(cts.Token));

        // Same address (127.0.0.1): refused at accept. Another address ([::1]): served.
        await TlsClient.AssertRefusedAsync(new IPEndPoint(IPAddress.Loopback, port), pki.CaClient, h.ServerPin);
        Assert.Contains(h.Log.Lines, l => l.Message.Contains("maxConnectionsPerAddress", StringComparison.Ordinal));
        using var other = await OpenAsync(new IPEndPoint(IPAddress.IPv6Loopback, port), pki.CaClient, h.ServerPin, cts.Token);
        Assert.Equal("held", await other.Reader.ReadLineAsync(cts.Token));
        release.SetResult();
    }

    [Fact]
    public async Task ASecondConnectionForTheSameKeyIsClosedButAnotherKeyGetsIn()
    {
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await using Harness h = Harness.Tls(pki, IPAddress.Loopback, limits: new WireLimits { MaxConnectionsPerPrincipal = 1 }, handler: async (c, stopping) =>
        {
            await c.Stream.WriteAsync("held\n"u8.ToArray(), stopping);
            await release.Task.WaitAsync(stopping);
        });
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(10));

        using var first = await OpenAsync(h.Endpoint(), pki.CaClient, h.ServerPin, cts.Token);
        Assert.Equal("held", await first.Reader.ReadLineAsync(cts.Token));

        await TlsClient.AssertRefusedAsync(h.Endpoint(), pki.CaClient, h.ServerPin);
        Assert.Contains(h.Log.Lines, l => l.Message.Contains("maxConnectionsPerPrincipal", StringComparison.Ordinal));

        using var otherKey = CertificateFactory.IssueClient(pki.Ca, "second device");
        using var second = await OpenAsync(h.Endpoint(), otherKey, h.ServerPin, cts.Token);
        Assert.Equal("held", await second.Reader.ReadLineAsync(cts.Token));

        // When the first key's connection ends, its slot is free again.
        release.SetResult();
        Assert.Null(await first.Reader.ReadLineAsync(cts.Token));
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (h.Server.OpenConnections > 0 && DateTime.UtcNow < deadline)
        {
            await Task.Delay(20, cts.Token);
        }

        Assert.Equal("held", await TlsClient.ReadLineAsync(h.Endpoint(), pki.CaClient, h.ServerPin));
    }

    private static async Task<OpenConnection> OpenAsync(IPEndPoint endpoint, System.Security.Cryptography.X509Certificates.X509Certificate2 client, string serverPin, CancellationToken cancellationToken)
    {
        var tcp = await TlsClient.ConnectAsync(endpoint, cancellationToken);
        var tls = new SslStream(tcp.GetStream());
        await tls.AuthenticateAsClientAsync(TlsClient.Options(client, serverPin), cancellationToken);
        return new OpenConnection(tcp, tls, new StreamReader(tls, Encoding.ASCII));
    }

    private sealed record OpenConnection(TcpClient Tcp, SslStream Tls, StreamReader Reader) : IDisposable
    {
        public void Dispose()
        {
            Reader.Dispose();
            Tls.Dispose();
            Tcp.Dispose();
        }
    }
}
