using System.Security.Cryptography.X509Certificates;
using Gatehouse.Wire;

namespace Gatehouse.Wire.Tests;

[Collection(PkiCollection.Name)]
public sealed class ClientTrustTests(TestPki pki)
{
    [Fact]
    public void LetsInAClientIssuedByTheUserCa()
    {
        TrustDecision decision = pki.Trust().Evaluate(pki.CaClient);

        Principal principal = Assert.IsType<Principal>(decision.Principal);
        Assert.Equal(TrustSource.CertificateAuthority, principal.Source);
        Assert.Equal("user", principal.TrustName);
        Assert.Equal(KeyPin.Compute(pki.CaClient), principal.Pin);
        Assert.Equal("CN=laptop", principal.Subject);
        Assert.Null(decision.RefusalReason);
    }

    [Fact]
    public void LetsInAPinnedSelfSignedKey()
    {
        Principal principal = Assert.IsType<Principal>(pki.Trust().Evaluate(pki.PinnedSelfSigned).Principal);

        Assert.Equal(TrustSource.PinnedKey, principal.Source);
        Assert.Equal("phone", principal.TrustName);
    }

    [Theory]
    [InlineData("unpinned", "unknown issuer")]
    [InlineData("stranger", "unknown issuer")]
    [InlineData("expired", "expired")]
    [InlineData("future", "not yet valid")]
    [InlineData("denied", "denied key")]
    [InlineData("server", "not for client auth")]
    public void RefusesWithAShortReason(string which, string reason)
    {
        X509Certificate2 cert = which switch
        {
            "unpinned" => pki.UnpinnedSelfSigned,
            "stranger" => pki.StrangerClient,
            "expired" => pki.Expired,
            "future" => pki.NotYetValid,
            "denied" => pki.Denied,
            _ => ServerAuthOnly(),
        };

        TrustDecision decision = pki.Trust().Evaluate(cert);

        Assert.Null(decision.Principal);
        Assert.Equal(reason, decision.RefusalReason);
    }

    /// <summary>A key whose EKU names only serverAuth (device certificates carry clientAuth too since issue 8).</summary>
    private static X509Certificate2 ServerAuthOnly()
    {
        using var key = System.Security.Cryptography.ECDsa.Create();
        var request = new CertificateRequest("CN=server only", key, System.Security.Cryptography.HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new System.Security.Cryptography.Oid("1.3.6.1.5.5.7.3.1")], false));
        return request.CreateSelfSigned(DateTimeOffset.UtcNow.AddHours(-1), DateTimeOffset.UtcNow.AddDays(1));
    }

    [Fact]
    public void RefusesAMissingCertificate() =>
        Assert.Equal("no client certificate", pki.Trust().Evaluate(null).RefusalReason);

    [Fact]
    public void DenyListWinsOverTheWhitelist()
    {
        string pin = KeyPin.Compute(pki.PinnedSelfSigned);
        var trust = new ClientTrust([], [new PinnedKey("phone", pin)], [pin]);

        Assert.Equal("denied key", trust.Evaluate(pki.PinnedSelfSigned).RefusalReason);
    }

    [Fact]
    public void RefusesAPinnedKeyThatHasExpired()
    {
        var trust = new ClientTrust([], [new PinnedKey("old", KeyPin.Compute(pki.Expired))], []);

        Assert.Equal("expired", trust.Evaluate(pki.Expired).RefusalReason);
    }

    [Fact]
    public void JudgesTimeByTheGivenClock()
    {
        var later = new FixedTime(pki.CaClient.NotAfter.ToUniversalTime().AddDays(1));
        var trust = new ClientTrust([new TrustedCa("user", pki.Ca)], [], [], later);

        Assert.Equal("expired", trust.Evaluate(pki.CaClient).RefusalReason);
    }

    [Fact]
    public void NamesTheCaThatIssuedTheKeyWhenSeveralAreTrusted()
    {
        var trust = new ClientTrust([new TrustedCa("user", pki.Ca), new TrustedCa("partner", pki.Stranger)], [], []);

        Assert.Equal("partner", trust.Evaluate(pki.StrangerClient).Principal?.TrustName);
        Assert.Equal("user", trust.Evaluate(pki.CaClient).Principal?.TrustName);
    }

    [Fact]
    public void HandshakesFromOneKeyShareOnePrincipal()
    {
        ClientTrust trust = pki.Trust();

        Principal first = Assert.IsType<Principal>(trust.Evaluate(pki.CaClient).Principal);
        Principal again = Assert.IsType<Principal>(trust.Evaluate(pki.CaClient).Principal);
        Principal pinned = Assert.IsType<Principal>(trust.Evaluate(pki.PinnedSelfSigned).Principal);

        Assert.Same(first, again);
        Assert.NotEqual(first, pinned);
        Assert.Same(pinned, trust.Evaluate(pki.PinnedSelfSigned).Principal);
    }

    [Fact]
    public void NeverTrustsTheSystemStore()
    {
        var trust = new ClientTrust([], [], []);

        Assert.Equal("unknown issuer", trust.Evaluate(pki.CaClient).RefusalReason);
    }

    [Fact]
    public void RejectsMalformedPinsInConfiguration()
    {
        Assert.Throws<ArgumentException>(() => new ClientTrust([], [new PinnedKey("x", "sha256//nope")], []));
        Assert.Throws<ArgumentException>(() => new ClientTrust([], [], ["AAAA"]));
    }

    [Fact]
    public void RejectsALeafConfiguredAsCa() =>
        Assert.Throws<ArgumentException>(() => new ClientTrust([new TrustedCa("oops", pki.CaClient)], [], []));
}
