using System.Net.Security;
using System.Net.Sockets;
using System.Security.Authentication;
using System.Security.Cryptography.X509Certificates;
using Gatehouse.Wire;

namespace Gatehouse.Proxy;

/// <summary>
/// The client side of a peer link's TLS (issue 8): TLS 1.2/1.3, ALPN http/1.1, this side's
/// certificate, and the server accepted only when its key is one of the peer's pins. The
/// platform's chain and name verdict is ignored on purpose: no CA, no DNS, the pin is the trust.
/// </summary>
internal static class TlsUpstreamHandshake
{
    /// <summary>Runs the handshake on a connected socket; the returned stream owns the socket.</summary>
    /// <exception cref="UpstreamPinMismatchException">The server's key is none of the pins.</exception>
    /// <exception cref="AuthenticationException">The handshake failed otherwise.</exception>
    public static async ValueTask<SslStream> AuthenticateAsync(Socket socket, UpstreamNode node, UpstreamTls tls, CancellationToken cancellationToken)
    {
        string? presentedPin = null;
        var mismatch = false;
        var options = new SslClientAuthenticationOptions
        {
            // SNI for a name, nothing for a literal (RFC 6066 §3 forbids literals); trust never comes from it.
            TargetHost = node.EndPoint is System.Net.DnsEndPoint dns ? dns.Host : string.Empty,
            ClientCertificateContext = tls.ClientCertificateContext,
            ApplicationProtocols = [SslApplicationProtocol.Http11],
            EnabledSslProtocols = SslProtocols.Tls12 | SslProtocols.Tls13,
            CertificateRevocationCheckMode = X509RevocationMode.NoCheck,
            CertificateChainPolicy = new X509ChainPolicy
            {
                RevocationMode = X509RevocationMode.NoCheck,
                DisableCertificateDownloads = true,
                TrustMode = X509ChainTrustMode.CustomRootTrust,
            },
            RemoteCertificateValidationCallback = (_, certificate, _, _) =>
            {
                presentedPin = certificate switch
                {
                    null => null,
                    X509Certificate2 full => KeyPin.Compute(full),
                    _ => PinOf(certificate),
                };
                mismatch = presentedPin is null || !tls.Pins.Contains(presentedPin);
                return !mismatch;
            },
        };

        var stream = new SslStream(new NetworkStream(socket, ownsSocket: true), leaveInnerStreamOpen: false);
        try
        {
            await stream.AuthenticateAsClientAsync(options, cancellationToken).ConfigureAwait(false);
            return stream;
        }
        catch (AuthenticationException ex) when (mismatch)
        {
            await stream.DisposeAsync().ConfigureAwait(false);
            throw new UpstreamPinMismatchException(node.ToString(), presentedPin, ex);
        }
        catch
        {
            await stream.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    private static string PinOf(X509Certificate certificate)
    {
        using var copy = X509CertificateLoader.LoadCertificate(certificate.GetRawCertData());
        return KeyPin.Compute(copy);
    }
}
