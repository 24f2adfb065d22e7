using System.Net.Security;
using System.Security.Cryptography.X509Certificates;

namespace Gatehouse.Wire;

/// <summary>
/// The gate's own certificate and key, its pin (what peers and <c>curl --pinnedpubkey</c> check),
/// and the SslStream certificate context built once rather than per handshake.
/// </summary>
public sealed class ServerIdentity
{
    /// <summary>Wraps a certificate that carries its private key.</summary>
    /// <exception cref="ArgumentException">The certificate has no private key.</exception>
    public ServerIdentity(X509Certificate2 certificate)
    {
        ArgumentNullException.ThrowIfNull(certificate);
        if (!certificate.HasPrivateKey)
        {
            throw new ArgumentException("the server certificate has no private key", nameof(certificate));
        }

        Certificate = certificate;
        Pin = KeyPin.Compute(certificate);
        // offline: true — building the context must never fetch intermediates over the network at startup.
        CertificateContext = SslStreamCertificateContext.Create(certificate, additionalCertificates: null, offline: true);
    }

    /// <summary>The server certificate, with its private key.</summary>
    public X509Certificate2 Certificate { get; }

    /// <summary>The server key's pin, <c>sha256//base64</c>.</summary>
    public string Pin { get; }

    /// <summary>What every TLS handshake presents.</summary>
    public SslStreamCertificateContext CertificateContext { get; }

    /// <summary>Loads the certificate and key from PEM files (see <see cref="PemFiles.LoadCertificateWithKey"/>).</summary>
    /// <exception cref="CertificateFileException">A file is missing, unreadable, or the key is wrong.</exception>
    public static ServerIdentity Load(string certPath, string keyPath, ReadOnlySpan<char> passphrase) =>
        new(PemFiles.LoadCertificateWithKey(certPath, keyPath, passphrase));
}
