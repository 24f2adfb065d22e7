using System.Net.Security;
using System.Security.Authentication;
using System.Security.Cryptography.X509Certificates;

namespace Gatehouse.Wire;

/// <summary>
/// The client side of "identity is a key" (DESIGN.md decision 1) for outbound TLS — peer links
/// and the WebSocket client: the server is accepted only when its key's pin is one of the
/// expected pins. No CA, no DNS name: the platform's chain and name verdicts are ignored on purpose.
/// One instance per handshake; after a failed handshake, <see cref="Mismatch"/> and
/// <see cref="PresentedPin"/> say whether the key was the reason and which key it was.
/// </summary>
public sealed class ServerPinCheck
{
    private readonly IReadOnlyCollection<string> _acceptedPins;

    public ServerPinCheck(IReadOnlyCollection<string> acceptedPins)
    {
        _acceptedPins = acceptedPins;
    }

    /// <summary>The pin of the key the server presented, once the handshake got that far.</summary>
    public string? PresentedPin { get; private set; }

    /// <summary>The server presented no key or a key that is not one of the pins.</summary>
    public bool Mismatch { get; private set; }

    /// <summary>TLS 1.2/1.3, ALPN http/1.1, no revocation or download, trust decided by <see cref="Validate"/>.</summary>
    /// <param name="serverName">SNI for a host name; empty for an address literal (RFC 6066 §3 forbids literals).</param>
    /// <param name="clientCertificate">The certificate this side presents, or null.</param>
    public SslClientAuthenticationOptions CreateOptions(string serverName, SslStreamCertificateContext? clientCertificate) => new()
    {
        TargetHost = serverName,
        ClientCertificateContext = clientCertificate,
        ApplicationProtocols = [SslApplicationProtocol.Http11],
        EnabledSslProtocols = SslProtocols.Tls12 | SslProtocols.Tls13,
        CertificateRevocationCheckMode = X509RevocationMode.NoCheck,
        CertificateChainPolicy = new X509ChainPolicy
        {
            RevocationMode = X509RevocationMode.NoCheck,
            DisableCertificateDownloads = true,
            TrustMode = X509ChainTrustMode.CustomRootTrust,
        },
        RemoteCertificateValidationCallback = Validate,
    };

    private bool Validate(object sender, X509Certificate? certificate, X509Chain? chain, SslPolicyErrors errors)
    {
        PresentedPin = certificate switch
        {
            null => null,
            X509Certificate2 full => KeyPin.Compute(full),
            _ => PinOf(certificate),
        };
        Mismatch = PresentedPin is null || !_acceptedPins.Contains(PresentedPin);
        return !Mismatch;
    }

    private static string PinOf(X509Certificate certificate)
    {
        using var copy = X509CertificateLoader.LoadCertificate(certificate.GetRawCertData());
        return KeyPin.Compute(copy);
    }
}
