using System.Net;
using System.Security.Cryptography.X509Certificates;
using Gatehouse.Wire;

namespace Gatehouse.Wire.Tests;

/// <summary>
/// ClientTrust may take the chain SslStream built during the handshake instead of building its own
/// (HandshakeChain): only when that chain proves one of its CAs issued this very key, never otherwise.
/// </summary>
[Collection(PkiCollection.Name)]
public sealed class HandshakeChainTests(TestPki pki)
{
    [Fact]
    public void TakesTheHandshakeChainOfAKeyTheCaIssued()
    {
        ClientTrust trust = pki.Trust();
        using ChainFor chain = ChainFor.Build(pki.CaClient, trust.HandshakeChainPolicy!);

        Principal principal = Assert.IsType<Principal>(trust.Evaluate(pki.CaClient, chain.Chain).Principal);

        Assert.Equal(TrustSource.CertificateAuthority, principal.Source);
        Assert.Equal("user", principal.TrustName);
        Assert.Equal(KeyPin.Compute(pki.CaClient), principal.Pin);
    }

    [Fact]
    public void TheHandshakeChainNamesTheCaThatIssuedTheKey()
    {
        TrustedCa user = new("user", pki.Ca);
        HandshakeChain handshake = HandshakeChain.For([user, new TrustedCa("partner", pki.Stranger)], TimeProvider.System)!;
        using ChainFor chain = ChainFor.Build(pki.CaClient, handshake.Policy);

        Assert.Same(user, handshake.Anchor(chain.Chain, pki.CaClient));
        Assert.Null(handshake.Anchor(chain.Chain, pki.StrangerClient));
    }

    [Fact]
    public void NeverTakesAChainThatEndsAtACaItDoesNotTrust()
    {
        // A valid chain, but to a root of someone else's choosing: the trust's own build decides.
        var foreign = new X509ChainPolicy { TrustMode = X509ChainTrustMode.CustomRootTrust, RevocationMode = X509RevocationMode.NoCheck, DisableCertificateDownloads = true };
        foreign.CustomTrustStore.Add(pki.Stranger);
        using ChainFor chain = ChainFor.Build(pki.StrangerClient, foreign);
        Assert.Equal(2, chain.Chain.ChainElements.Count);

        Assert.Equal("unknown issuer", pki.Trust().Evaluate(pki.StrangerClient, chain.Chain).RefusalReason);
    }

    [Fact]
    public void NeverTakesTheChainOfAnotherKey()
    {
        ClientTrust trust = pki.Trust();
        using ChainFor chain = ChainFor.Build(pki.CaClient, trust.HandshakeChainPolicy!);

        Assert.Equal("unknown issuer", trust.Evaluate(pki.UnpinnedSelfSigned, chain.Chain).RefusalReason);
    }

    [Fact]
    public void AFailedHandshakeChainLeavesTheReasonToTheTrust()
    {
        ClientTrust trust = pki.Trust();
        using ChainFor chain = ChainFor.Build(pki.StrangerClient, trust.HandshakeChainPolicy!);

        Assert.Equal("unknown issuer", trust.Evaluate(pki.StrangerClient, chain.Chain).RefusalReason);
    }

    [Fact]
    public void CasOfTheSameNameAreJudgedInTheirOrderNotByTheHandshakeChain()
    {
        using X509Certificate2 twin = CertificateFactory.CreateCertificateAuthority("user");
        using X509Certificate2 twinClient = CertificateFactory.IssueClient(twin, "tablet");
        var trust = new ClientTrust([new TrustedCa("first", pki.Ca), new TrustedCa("second", twin)], [], []);
        using ChainFor chain = ChainFor.Build(twinClient, trust.HandshakeChainPolicy!);

        Assert.Null(HandshakeChain.For([new TrustedCa("first", pki.Ca), new TrustedCa("second", twin)], TimeProvider.System)!.Anchor(chain.Chain, twinClient));
        Assert.Equal("second", trust.Evaluate(twinClient, chain.Chain).Principal?.TrustName);
        Assert.Equal("first", trust.Evaluate(pki.CaClient, chain.Chain).Principal?.TrustName);
    }

    [Fact]
    public void NoHandshakeChainWithoutCasOrWithAnotherClock()
    {
        Assert.Null(new ClientTrust([], [], []).HandshakeChainPolicy);
        Assert.Null(new ClientTrust([new TrustedCa("user", pki.Ca)], [], [], new FixedTime(DateTimeOffset.UtcNow)).HandshakeChainPolicy);
        Assert.NotNull(pki.Trust().HandshakeChainPolicy);
    }

    [Fact]
    public async Task AHandshakeNamesTheCaThatIssuedTheKeyWhenSeveralAreTrusted()
    {
        var trust = new ClientTrust([new TrustedCa("user", pki.Ca), new TrustedCa("partner", pki.Stranger)], [], []);
        await using Harness h = Harness.Tls(pki, IPAddress.Loopback, trust: trust);

        Assert.Equal(KeyPin.Compute(pki.StrangerClient), await TlsClient.ReadLineAsync(h.Endpoint(), pki.StrangerClient, h.ServerPin));
        Assert.Equal(KeyPin.Compute(pki.CaClient), await TlsClient.ReadLineAsync(h.Endpoint(), pki.CaClient, h.ServerPin));

        Assert.Equal(["partner", "user"], h.Seen.Select(seen => seen.Principal.TrustName));
    }

    [Fact]
    public async Task AHandshakeRefusesAKeyOfACaThatIsNotTrusted()
    {
        await using Harness h = Harness.Tls(pki, IPAddress.Loopback);

        await TlsClient.AssertRefusedAsync(h.Endpoint(), pki.StrangerClient, h.ServerPin);

        Assert.Empty(h.Seen);
    }

    /// <summary>An X509Chain built for one leaf, its element certificates disposed with it.</summary>
    private sealed class ChainFor : IDisposable
    {
        private ChainFor(X509Chain chain) => Chain = chain;

        public X509Chain Chain { get; }

        public static ChainFor Build(X509Certificate2 leaf, X509ChainPolicy policy)
        {
            var chain = new X509Chain { ChainPolicy = policy.Clone() };
            chain.Build(leaf);
            return new ChainFor(chain);
        }

        public void Dispose()
        {
            foreach (X509ChainElement element in Chain.ChainElements)
            {
                element.Certificate.Dispose();
            }

            Chain.Dispose();
        }
    }
}
