using System.Net;
using System.Net.Security;
using Gatehouse.Wire.Tuning;

namespace Gatehouse.Wire.Tests;

/// <summary>
/// The validation callback shared by every handshake (issue 9) decides nothing by itself: without
/// the handshake's check on the stream it refuses, even a certificate the trust would let in.
/// (With a check, every trust and refusal test of <see cref="WireServerTests"/> goes through it.)
/// And an admitted stream keeps no copy of the handshake's chain policy.
/// </summary>
[Collection(PkiCollection.Name)]
public sealed class TlsAcceptorTests(TestPki pki)
{
    [Fact]
    public void RefusesATrustedCertificateWhenTheSenderCarriesNoCheck()
    {
        using var plain = new SslStream(new MemoryStream());
        using var judgedAfterItsHandshake = new TlsAcceptor.JudgedSslStream(new MemoryStream());

        foreach (object sender in new object[] { plain, judgedAfterItsHandshake, new() })
        {
            Assert.False(TlsAcceptor.SharedValidation(sender, pki.CaClient, chain: null, SslPolicyErrors.None));
        }
    }

    [Fact]
    public void JudgesByTheCheckTheStreamCarries()
    {
        using var judged = new TlsAcceptor.JudgedSslStream(new MemoryStream())
        {
            Check = new TlsAcceptor.ClientCertificateCheck(pki.Trust(), ClientCertificateMode.Required),
        };

        Assert.True(TlsAcceptor.SharedValidation(judged, pki.CaClient, chain: null, SslPolicyErrors.None));
        Assert.Equal(KeyPin.Compute(pki.CaClient), judged.Check.Decision?.Principal?.Pin);

        judged.Check = new TlsAcceptor.ClientCertificateCheck(pki.Trust(), ClientCertificateMode.Required);
        Assert.False(TlsAcceptor.SharedValidation(judged, pki.StrangerClient, chain: null, SslPolicyErrors.None));
        Assert.Equal(ClientTrust.Reasons.UnknownIssuer, judged.Check.Decision?.RefusalReason);
    }

    [Fact]
    public async Task AnAdmittedStreamNoLongerHoldsTheHandshakesChainPolicy()
    {
        Assert.Null(ChainPolicyRelease.Unsupported);
        SslStream? seen = null;
        await using Harness h = Harness.Tls(pki, IPAddress.Loopback, handler: async (connection, stopping) =>
        {
            seen = (SslStream)connection.Stream;
            await connection.Stream.WriteAsync("ok\n"u8.ToArray(), stopping);
        });

        Assert.Equal("ok", await TlsClient.ReadLineAsync(h.Endpoint(), pki.CaClient, h.ServerPin));
        Assert.NotNull(seen);
        Assert.Null(ChainPolicyRelease.Held(seen));
    }
}
