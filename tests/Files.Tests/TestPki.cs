using System.Net;
using System.Security.Cryptography.X509Certificates;
using Gatehouse.Wire;

namespace Gatehouse.Files.Tests;

/// <summary>One CA, server and two clients for the whole run: "laptop" may read and write, "viewer" only read.</summary>
public sealed class TestPki : IDisposable
{
    public TestPki()
    {
        Ca = CertificateFactory.CreateCertificateAuthority("user");
        Server = CertificateFactory.IssueServer(Ca, "gate", ["localhost"], [IPAddress.Loopback]);
        Laptop = CertificateFactory.IssueClient(Ca, "laptop");
        Viewer = CertificateFactory.IssueClient(Ca, "viewer");
        Identity = new ServerIdentity(Server);
    }

    public X509Certificate2 Ca { get; }

    public X509Certificate2 Server { get; }

    public X509Certificate2 Laptop { get; }

    public X509Certificate2 Viewer { get; }

    public ServerIdentity Identity { get; }

    public ClientTrust Trust() => new([new TrustedCa("user", Ca)], [], []);

    public void Dispose()
    {
        foreach (var cert in new[] { Ca, Server, Laptop, Viewer })
        {
            cert.Dispose();
        }
    }
}

[CollectionDefinition(Name)]
public sealed class PkiCollection : ICollectionFixture<TestPki>
{
    public const string Name = "pki";
}
