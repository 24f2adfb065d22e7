using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Cryptography;
using Gatehouse.Wire;

namespace Gatehouse.Proxy.Tests;

/// <summary>The pool's TLS upstreams (issue 8): pinned server keys, addresses in order, the last good one kept.</summary>
public sealed class UpstreamTlsTests
{
    [Theory]
    [InlineData("127.0.0.1:8443", "127.0.0.1", 8443)]
    [InlineData("[::1]:8443", "::1", 8443)]
    [InlineData("[2001:db8::7]:1", "2001:db8::7", 1)]
    public void ParsesLiteralAddresses(string text, string address, int port)
    {
        var endPoint = Assert.IsType<IPEndPoint>(UpstreamAddress.Parse(text));
        Assert.Equal(IPAddress.Parse(address), endPoint.Address);
        Assert.Equal(port, endPoint.Port);
    }

    [Fact]
    public void ParsesANameAndAZoneByNumber()
    {
        var name = Assert.IsType<DnsEndPoint>(UpstreamAddress.Parse("laptop.local:8443"));
        var zoned = Assert.IsType<IPEndPoint>(UpstreamAddress.Parse("[fe80::1%1]:8443"));

        Assert.Equal("laptop.local", name.Host);
        Assert.Equal(1, zoned.Address.ScopeId);
        Assert.Equal("[fe80::1]:8443", UpstreamAddress.Authority(zoned)); // RFC 6874 §4: no zone on the wire
    }

    [Theory]
    [InlineData("127.0.0.1")]
    [InlineData("::1:8443")]
    [InlineData("[::1]")]
    [InlineData("127.0.0.1:0")]
    [InlineData("127.0.0.1:65536")]
    [InlineData("300.1.1.1:80")]
    [InlineData("[fe80::1%nosuchif0]:80")]
    [InlineData("bad_host!:80")]
    public void RefusesMalformedAddresses(string text) =>
        Assert.Throws<FormatException>(() => UpstreamAddress.Parse(text));

    [Fact]
    public async Task ConnectsWhenTheServerKeyIsOneOfThePins()
    {
        await using var server = await PinnedServer.StartAsync();
        await using var pool = server.Pool([server.EndPoint], [RandomPin(), server.Pin]);

        var connection = await pool.LeaseAsync(fresh: false, retrySafe: false, CancellationToken.None);
        var tls = Assert.IsType<SslStream>(connection.Stream);

        Assert.Equal(SslApplicationProtocol.Http11, tls.NegotiatedApplicationProtocol);
        await pool.ReleaseAsync(connection, reusable: false);
    }

    [Fact]
    public async Task AKeyOutsideThePinsIsAConnectFailureWithItsReason()
    {
        await using var server = await PinnedServer.StartAsync();
        await using var pool = server.Pool([server.EndPoint], [RandomPin()]);

        var ex = await Assert.ThrowsAsync<UpstreamConnectException>(async () => await pool.LeaseAsync(fresh: false, retrySafe: false, CancellationToken.None));

        Assert.Equal("peer key does not match its pins", ex.ClientReason);
        Assert.False(ex.TimedOut);
        Assert.Equal(0, pool.ConnectionsOpened);
    }

    [Fact]
    public async Task TriesAddressesInOrderAndKeepsTheOneThatAnswered()
    {
        await using var server = await PinnedServer.StartAsync();
        var dead = new IPEndPoint(IPAddress.Loopback, DeadPort());
        await using var pool = server.Pool([dead, server.EndPoint], [server.Pin]);

        for (var i = 0; i < 3; i++)
        {
            var connection = await pool.LeaseAsync(fresh: true, retrySafe: false, CancellationToken.None);
            Assert.Equal(server.EndPoint, connection.Node.EndPoint);
            await pool.ReleaseAsync(connection, reusable: false);
        }

        Assert.Equal(3, pool.ConnectionsOpened);
    }

    private static string RandomPin() => KeyPin.Prefix + Convert.ToBase64String(RandomNumberGenerator.GetBytes(32));

    private static int DeadPort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    /// <summary>A TLS server on loopback that requires a client certificate and answers nothing (handshakes only).</summary>
    private sealed class PinnedServer : IAsyncDisposable
    {
        private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
        private readonly System.Security.Cryptography.X509Certificates.X509Certificate2 _ca = CertificateFactory.CreateCertificateAuthority("test CA");
        private readonly System.Security.Cryptography.X509Certificates.X509Certificate2 _server;
        private readonly System.Security.Cryptography.X509Certificates.X509Certificate2 _client;
        private readonly List<SslStream> _accepted = [];
        private readonly CancellationTokenSource _stop = new();
        private Task _accepting = Task.CompletedTask;

        private PinnedServer()
        {
            _server = CertificateFactory.IssueServer(_ca, "peer", ["localhost"], [IPAddress.Loopback]);
            _client = CertificateFactory.IssueClient(_ca, "device");
        }

        public IPEndPoint EndPoint => (IPEndPoint)_listener.LocalEndpoint;

        public string Pin => KeyPin.Compute(_server);

        public static Task<PinnedServer> StartAsync()
        {
            var server = new PinnedServer();
            server._listener.Start();
            server._accepting = server.AcceptAsync();
            return Task.FromResult(server);
        }

        public UpstreamPool Pool(IReadOnlyList<EndPoint> addresses, string[] pins) =>
            new(addresses, new UpstreamTls(_client, pins), new UpstreamOptions { ConnectTimeout = TimeSpan.FromSeconds(2), PreferLastGoodNode = true });

        public async ValueTask DisposeAsync()
        {
            await _stop.CancelAsync();
            _listener.Stop();
            await _accepting;
            foreach (var stream in _accepted)
            {
                await stream.DisposeAsync();
            }

            _server.Dispose();
            _client.Dispose();
            _ca.Dispose();
            _stop.Dispose();
        }

        private async Task AcceptAsync()
        {
            while (!_stop.IsCancellationRequested)
            {
                Socket socket;
                try
                {
                    socket = await _listener.AcceptSocketAsync(_stop.Token);
                }
                catch (Exception ex) when (ex is OperationCanceledException or SocketException or ObjectDisposedException)
                {
                    return;
                }

                var tls = new SslStream(new NetworkStream(socket, ownsSocket: true));
                _accepted.Add(tls);
                _ = HandshakeAsync(tls);
            }
        }

        private async Task HandshakeAsync(SslStream tls)
        {
            try
            {
                await tls.AuthenticateAsServerAsync(new SslServerAuthenticationOptions
                {
                    ServerCertificate = _server,
                    ClientCertificateRequired = true,
                    ApplicationProtocols = [SslApplicationProtocol.Http11],
                    RemoteCertificateValidationCallback = (_, certificate, _, _) => certificate is not null,
                });
            }
            catch (Exception ex) when (ex is IOException or System.Security.Authentication.AuthenticationException or ObjectDisposedException)
            {
                // The client refused our key: that is the point of some tests.
            }
        }
    }
}
