using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Gatehouse.Wire;
using static Gatehouse.Wire.Tests.OddCertificates;

namespace Gatehouse.Wire.Tests;

/// <summary>
/// The strength floor on its own (issue 17 item 6), for what no TLS socket can carry to the judgement:
/// small curves the platform refuses in the handshake itself (P-224 gets illegal_parameter), other
/// weak signatures than ecdsa-with-SHA1, and a weak intermediate (the per-CA build sees none a client sends).
/// </summary>
[Collection(PkiCollection.Name)]
public sealed class CertificateStrengthTests(TestPki pki)
{
    [Theory]
    [InlineData("nistP256", true)]
    [InlineData("nistP384", true)]
    [InlineData("nistP521", true)]
    [InlineData("brainpoolP256r1", true)]
    [InlineData("secp224r1", false)]
    [InlineData("prime192v1", false)] // secp192r1
    [InlineData("secp256k1", false)] // 256 bits, but not a curve we name: an allowlist
    public void JudgesEcKeysByTheirCurve(string curve, bool strong)
    {
        using X509Certificate2 cert = SelfSigned(curve, Ec(curve), new Shape());

        Assert.Equal(strong, CertificateStrength.KeyIsStrong(cert));
    }

    [Theory]
    [InlineData(1024, false)]
    [InlineData(2040, false)]
    [InlineData(2048, true)]
    [InlineData(3072, true)]
    public void JudgesRsaKeysByTheirModulus(int bits, bool strong)
    {
        using X509Certificate2 cert = SelfSigned("rsa", Rsa(bits), new Shape());

        Assert.Equal(strong, CertificateStrength.KeyIsStrong(cert));
    }

    [Theory]
    [InlineData("secp224r1")]
    [InlineData("prime192v1")]
    public void TheTrustRefusesSmallCurvesIssuedOrPinned(string curve)
    {
        using X509Certificate2 issued = Issued(pki.Ca, curve, Ec(curve), new Shape());
        using X509Certificate2 pinned = SelfSigned(curve, Ec(curve), new Shape());
        var trust = new ClientTrust([new TrustedCa("user", pki.Ca)], [new PinnedKey("pinned", KeyPin.Compute(pinned))], []);

        Assert.Equal(ClientTrust.Reasons.WeakKey, trust.Evaluate(issued).RefusalReason);
        Assert.Equal(ClientTrust.Reasons.WeakKey, trust.Evaluate(pinned).RefusalReason);
    }

    [Theory]
    [InlineData("-newkey rsa:2048 -sha1", false)]
    [InlineData("-newkey rsa:2048 -md5", false)]
    [InlineData("-newkey rsa:2048 -sha256 -sigopt rsa_padding_mode:pss", true)]
    [InlineData("-newkey rsa:2048 -sha1 -sigopt rsa_padding_mode:pss", false)]
    [InlineData("-newkey ec -pkeyopt ec_paramgen_curve:P-256 -sha256", true)]
    [InlineData("-newkey ec -pkeyopt ec_paramgen_curve:P-256 -sha1", false)]
    public void JudgesSignaturesByTheirHash(string options, bool strong)
    {
        using var dir = new TempDir();
        Openssl.Shell($"openssl req -x509 {options} -nodes -keyout k.pem -subj /CN=sig -days 1 -out c.pem", dir.Path);
        using X509Certificate2 cert = X509CertificateLoader.LoadCertificateFromFile(dir.File("c.pem"));

        Assert.Equal(strong, CertificateStrength.SignatureIsStrong(cert));
    }

    [Fact]
    public void RefusesAChainThroughAWeakIntermediateButNotForTheCasOwnSignature()
    {
        using X509Certificate2 sha1Intermediate = Sha1Signed(pki.Ca, isCa: true);
        using X509Certificate2 smallIntermediate = Issued(pki.Ca, "rsa-1024 ca", Rsa(1024), new Shape { IsCa = true, Usages = null });
        using X509Certificate2 goodIntermediate = Issued(pki.Ca, "good ca", Ec("nistP256"), new Shape { IsCa = true, Usages = null });
        using X509Certificate2 sha1Root = Sha1Signed(ca: null, isCa: true);

        Assert.Equal(ClientTrust.Reasons.WeakSignature, ChainFailure(pki.Ca, sha1Intermediate));
        Assert.Equal(ClientTrust.Reasons.WeakKey, ChainFailure(pki.Ca, smallIntermediate));
        Assert.Null(ChainFailure(pki.Ca, goodIntermediate));
        Assert.Null(ChainFailure(sha1Root, intermediate: null));
    }

    /// <summary>Builds a leaf under <paramref name="intermediate"/> (or straight under the root) and judges the chain's issuers.</summary>
    private static string? ChainFailure(X509Certificate2 root, X509Certificate2? intermediate)
    {
        using X509Certificate2 leaf = Issued(intermediate ?? root, "leaf", Ec("nistP256"), new Shape());
        using var chain = new X509Chain();
        chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        chain.ChainPolicy.CustomTrustStore.Add(root);
        chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        if (intermediate is not null)
        {
            chain.ChainPolicy.ExtraStore.Add(intermediate);
        }

        Assert.True(chain.Build(leaf), string.Join(", ", chain.ChainStatus.Select(s => s.StatusInformation)));
        Assert.Equal(intermediate is null ? 2 : 3, chain.ChainElements.Count);
        return ClientTrust.ChainElementFailure(chain.ChainElements);
    }
}
