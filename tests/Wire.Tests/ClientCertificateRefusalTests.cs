using System.Net;
using System.Security.Cryptography.X509Certificates;
using Gatehouse.Wire;
using Microsoft.Extensions.Logging;
using static Gatehouse.Wire.Tests.OddCertificates;

namespace Gatehouse.Wire.Tests;

/// <summary>
/// Client certificates the gate refuses although they chain to the user CA or are pinned (issue 17
/// item 6): a CA certificate posing as a client, small keys, SHA-1 signatures. Each is presented over
/// a real TLS socket; each refusal logs one line with its reason.
/// </summary>
[Collection(PkiCollection.Name)]
public sealed class ClientCertificateRefusalTests(TestPki pki)
{
    [Fact]
    public async Task RefusesACaCertificateIssuedByTheUserCa()
    {
        using X509Certificate2 cert = Issued(pki.Ca, "sub-ca", Ec("nistP256"), new Shape { IsCa = true });

        await AssertRefusedAsync(cert, Trust(), ClientTrust.Reasons.CaCertificate);
    }

    [Fact]
    public async Task LetsInAPinnedSelfSignedCertificateThatSaysCa()
    {
        // What `openssl req -x509` makes: cA=TRUE and no EKU.
        using X509Certificate2 cert = SelfSigned("openssl-req", Ec("nistP256"), new Shape { IsCa = true, Usages = null });

        await AssertLetInAsync(cert, Trust(cert), TrustSource.PinnedKey);
    }

    [Fact]
    public async Task RefusesAnRsa1024KeyIssuedByTheUserCa()
    {
        using X509Certificate2 cert = Issued(pki.Ca, "rsa-1024", Rsa(1024), new Shape());

        await AssertRefusedByOpensslAsync(cert, Trust(), ClientTrust.Reasons.WeakKey);
    }

    [Fact]
    public async Task RefusesAPinnedRsa1024Key()
    {
        using X509Certificate2 cert = SelfSigned("rsa-1024", Rsa(1024), new Shape());

        await AssertRefusedByOpensslAsync(cert, Trust(cert), ClientTrust.Reasons.WeakKey);
    }

    [Fact]
    public async Task LetsInAnRsa2048Key()
    {
        using X509Certificate2 cert = Issued(pki.Ca, "rsa-2048", Rsa(2048), new Shape());

        await AssertLetInAsync(cert, Trust(), TrustSource.CertificateAuthority);
    }

    [Theory]
    [InlineData("nistP256")]
    [InlineData("nistP384")]
    [InlineData("nistP521")]
    public async Task LetsInEcKeysOfP256AndUp(string curve)
    {
        using X509Certificate2 cert = Issued(pki.Ca, curve, Ec(curve), new Shape());

        await AssertLetInAsync(cert, Trust(), TrustSource.CertificateAuthority);
    }

    [Fact]
    public async Task RefusesASha1SignedLeafFromTheUserCa()
    {
        using X509Certificate2 cert = Sha1Signed(pki.Ca);

        await AssertRefusedByOpensslAsync(cert, Trust(), ClientTrust.Reasons.WeakSignature);
    }

    [Fact]
    public async Task RefusesAPinnedSha1SignedLeaf()
    {
        using X509Certificate2 cert = Sha1Signed(ca: null);

        await AssertRefusedByOpensslAsync(cert, Trust(cert), ClientTrust.Reasons.WeakSignature);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task TakesAnyExtendedKeyUsageAsNoEku(bool anyUsage)
    {
        // RFC 5280 §4.2.1.12: anyExtendedKeyUsage puts no limit on the key, as if the extension were absent.
        var shape = new Shape { Usages = anyUsage ? ["2.5.29.37.0"] : null };
        using X509Certificate2 issued = Issued(pki.Ca, "any-usage", Ec("nistP256"), shape);
        using X509Certificate2 pinned = SelfSigned("any-usage", Ec("nistP256"), shape);

        await AssertLetInAsync(issued, Trust(), TrustSource.CertificateAuthority);
        await AssertLetInAsync(pinned, Trust(pinned), TrustSource.PinnedKey);
    }

    private ClientTrust Trust(X509Certificate2? pinned = null) => new(
        [new TrustedCa("user", pki.Ca)],
        pinned is null ? [] : [new PinnedKey("pinned", KeyPin.Compute(pinned))],
        []);

    private async Task AssertLetInAsync(X509Certificate2 cert, ClientTrust trust, TrustSource source)
    {
        await using Harness h = Harness.Tls(pki, IPAddress.Loopback, trust: trust);

        Assert.Equal(KeyPin.Compute(cert), await TlsClient.ReadLineAsync(h.Endpoint(), cert, h.ServerPin));
        Assert.Equal(source, Assert.Single(h.Seen).Principal.Source);
    }

    private async Task AssertRefusedAsync(X509Certificate2 cert, ClientTrust trust, string reason)
    {
        await using Harness h = Harness.Tls(pki, IPAddress.Loopback, trust: trust);

        await TlsClient.AssertRefusedAsync(h.Endpoint(), cert, h.ServerPin);

        await AssertLoggedOneRefusalAsync(h, reason);
    }

    /// <summary>For keys SslStream's client will not present: once per TLS version, through openssl.</summary>
    private async Task AssertRefusedByOpensslAsync(X509Certificate2 cert, ClientTrust trust, string reason)
    {
        foreach (string protocol in new[] { "-tls1_2", "-tls1_3" })
        {
            await using Harness h = Harness.Tls(pki, IPAddress.Loopback, trust: trust);

            string output = OpensslClient.Exchange(h.Endpoint(), cert, protocol);

            // Weak keys and signatures are bad_certificate (42), as OpenSSL names its own "key too
            // small" and "md too weak": an alert over TLS 1.2, a 403 in words over TLS 1.3 (HandshakeRefusal).
            Assert.DoesNotContain(KeyPin.Compute(cert), output, StringComparison.Ordinal);
            Assert.Contains(protocol == "-tls1_2" ? "SSL alert number 42" : "Refused (TLS alert bad_certificate): ", output, StringComparison.Ordinal);
            await AssertLoggedOneRefusalAsync(h, reason);
        }
    }

    private static async Task AssertLoggedOneRefusalAsync(Harness h, string reason)
    {
        await h.Server.StopAsync(TimeSpan.FromSeconds(2));

        Assert.Empty(h.Seen);
        (LogLevel level, string message) = Assert.Single(h.Log.Lines, l => l.Message.StartsWith("refused", StringComparison.Ordinal));
        Assert.Equal(LogLevel.Information, level);
        Assert.EndsWith(": " + reason, message, StringComparison.Ordinal);
    }
}
