using System.Net;
using System.Security.Cryptography.X509Certificates;
using Gatehouse.Wire;

namespace Gatehouse.Wire.Tests;

/// <summary>
/// Issue 19 item 4: a refused client reads why, in what openssl s_client prints. TLS 1.2 gets the
/// fatal alert that names the reason; TLS 1.3 (whose alert .NET on Linux cannot send) gets a 403 in
/// words that names the same alert. A trusted key still gets in over both, so holding the server's
/// last flight for the judgement loses nothing.
/// </summary>
[Collection(PkiCollection.Name)]
public sealed class RefusalAlertTests(TestPki pki)
{
    [OpensslFact]
    public async Task NoCertificateIsHandshakeFailureInTls12AndCertificateRequiredInTls13()
    {
        await AssertToldAsync(null, "sslv3 alert handshake failure", 40, "certificate_required");
    }

    [OpensslFact]
    public async Task AKeyFromAnotherCaIsUnknownCa()
    {
        await AssertToldAsync(pki.StrangerClient, "tlsv1 alert unknown ca", 48, "unknown_ca");
    }

    [OpensslFact]
    public async Task AnUnpinnedSelfSignedKeyIsUnknownCa()
    {
        await AssertToldAsync(pki.UnpinnedSelfSigned, "tlsv1 alert unknown ca", 48, "unknown_ca");
    }

    [OpensslFact]
    public async Task AnExpiredKeyIsCertificateExpired()
    {
        await AssertToldAsync(pki.Expired, "sslv3 alert certificate expired", 45, "certificate_expired");
    }

    [OpensslFact]
    public async Task ADeniedKeyIsCertificateRevoked()
    {
        await AssertToldAsync(pki.Denied, "sslv3 alert certificate revoked", 44, "certificate_revoked");
    }

    [OpensslFact]
    public async Task AKeyNotValidYetIsBadCertificate()
    {
        await AssertToldAsync(pki.NotYetValid, "sslv3 alert bad certificate", 42, "bad_certificate");
    }

    [OpensslFact]
    public async Task ATrustedKeyStillGetsInOverBothVersions()
    {
        foreach (string protocol in new[] { "-tls1_2", "-tls1_3" })
        {
            await using Harness h = Harness.Tls(pki, IPAddress.Loopback);

            string output = Exchange(h.Endpoint(), pki.CaClient, protocol);

            Assert.Contains(KeyPin.Compute(pki.CaClient), output, StringComparison.Ordinal);
            Assert.DoesNotContain("alert", output, StringComparison.OrdinalIgnoreCase);
        }
    }

    private async Task AssertToldAsync(X509Certificate2? cert, string tls12Text, int alertNumber, string tls13Alert)
    {
        await using Harness h = Harness.Tls(pki, IPAddress.Loopback);

        string tls12 = Exchange(h.Endpoint(), cert, "-tls1_2");
        Assert.Contains(tls12Text, tls12, StringComparison.Ordinal);
        Assert.Contains($"SSL alert number {alertNumber}", tls12, StringComparison.Ordinal);

        string tls13 = Exchange(h.Endpoint(), cert, "-tls1_3");
        Assert.Contains("HTTP/1.1 403 Forbidden", tls13, StringComparison.Ordinal);
        Assert.Contains($"Refused (TLS alert {tls13Alert}): ", tls13, StringComparison.Ordinal);

        Assert.Empty(h.Seen);
    }

    /// <summary>openssl s_client with <paramref name="cert"/> (or none) until the server closes; stdout and stderr together.</summary>
    private static string Exchange(IPEndPoint endpoint, X509Certificate2? cert, string protocol)
    {
        if (cert is not null)
        {
            return OpensslClient.Exchange(endpoint, cert, protocol);
        }

        return Openssl.Shell($"openssl s_client -connect 127.0.0.1:{endpoint.Port} {protocol} -ign_eof </dev/null 2>&1 || true");
    }
}
