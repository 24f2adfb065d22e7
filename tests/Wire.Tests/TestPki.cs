using System.Net;
using System.Security.Cryptography.X509Certificates;
using Gatehouse.Wire;

namespace Gatehouse.Wire.Tests;

/// <summary>One set of certificates for the whole test run (making keys is the slow part).</summary>
public sealed class TestPki : IDisposable
{
    public TestPki()
    {
        DateTimeOffset now = DateTimeOffset.UtcNow;
        Ca = CertificateFactory.CreateCertificateAuthority("user", now.AddDays(-30), now.AddYears(1));
        Stranger = CertificateFactory.CreateCertificateAuthority("stranger", now.AddDays(-30), now.AddYears(1));
        Server = CertificateFactory.IssueServer(Ca, "gate", ["localhost"], [IPAddress.Loopback, IPAddress.IPv6Loopback]);
        CaClient = CertificateFactory.IssueClient(Ca, "laptop");
        PinnedSelfSigned = CertificateFactory.CreateSelfSignedClient("phone");
        UnpinnedSelfSigned = CertificateFactory.CreateSelfSignedClient("intruder");
        StrangerClient = CertificateFactory.IssueClient(Stranger, "elsewhere");
        Expired = CertificateFactory.IssueClient(Ca, "old", now.AddDays(-20), now.AddDays(-1));
        NotYetValid = CertificateFactory.IssueClient(Ca, "future", now.AddDays(1), now.AddDays(20));
        Denied = CertificateFactory.IssueClient(Ca, "lost-phone");
        Identity = new ServerIdentity(Server);
    }

    public X509Certificate2 Ca { get; }
    public X509Certificate2 Stranger { get; }
    public X509Certificate2 Server { get; }
    public X509Certificate2 CaClient { get; }
    public X509Certificate2 PinnedSelfSigned { get; }
    public X509Certificate2 UnpinnedSelfSigned { get; }
    public X509Certificate2 StrangerClient { get; }
    public X509Certificate2 Expired { get; }
    public X509Certificate2 NotYetValid { get; }
    public X509Certificate2 Denied { get; }
    public ServerIdentity Identity { get; }

    public ClientTrust Trust() => new(
        [new TrustedCa("user", Ca)],
        [new PinnedKey("phone", KeyPin.Compute(PinnedSelfSigned))],
        [KeyPin.Compute(Denied)]);

    public void Dispose()
    {
        foreach (X509Certificate2 cert in new[] { Ca, Stranger, Server, CaClient, PinnedSelfSigned, UnpinnedSelfSigned, StrangerClient, Expired, NotYetValid, Denied })
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
