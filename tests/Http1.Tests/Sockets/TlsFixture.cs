using System.Net;
using System.Security.Cryptography.X509Certificates;
using Gatehouse.Http1.Tests.Support;
using Gatehouse.Wire;

namespace Gatehouse.Http1.Tests.Sockets;

/// <summary>A user CA, the server's identity and a client key from the same CA, and one TLS server on 127.0.0.1:0.</summary>
public sealed class TlsFixture : IAsyncLifetime
{
    private TestServer? _server;

    public TlsFixture()
    {
        var now = DateTimeOffset.UtcNow;
        Ca = CertificateFactory.CreateCertificateAuthority("user", now.AddDays(-1), now.AddYears(1));
        ServerCertificate = CertificateFactory.IssueServer(Ca, "gate", ["localhost"], [IPAddress.Loopback]);
        Client = CertificateFactory.IssueClient(Ca, "laptop");
        Identity = new ServerIdentity(ServerCertificate);
    }

    public X509Certificate2 Ca { get; }

    public X509Certificate2 ServerCertificate { get; }

    public X509Certificate2 Client { get; }

    public ServerIdentity Identity { get; }

    internal TestServer Server => _server ?? throw new InvalidOperationException("not started");

    /// <summary>A separate server, for tests that need their own limits (timeouts).</summary>
    internal TestServer StartServer(Http1Limits limits, IRequestHandler? handler = null) => TestServer.StartTls(Identity, Ca, limits, handler);

    internal Task<RawHttpClient> ConnectAsync(TestServer? server = null) =>
        RawHttpClient.ConnectTlsAsync((server ?? Server).Endpoint, Client, Identity.Pin);

    public Task InitializeAsync()
    {
        _server = TestServer.StartTls(Identity, Ca);
        return Task.CompletedTask;
    }

    public async Task DisposeAsync()
    {
        if (_server is not null)
        {
            await _server.DisposeAsync();
        }

        Client.Dispose();
        ServerCertificate.Dispose();
        Ca.Dispose();
    }
}
