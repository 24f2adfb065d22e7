using System.Collections.Frozen;
using System.Net.Security;
using System.Security.Cryptography.X509Certificates;
using Gatehouse.Wire;

namespace Gatehouse.Proxy;

/// <summary>
/// How a TLS upstream (a peer Gatehouse, issue 8) is spoken to: the certificate this side presents
/// and the key pins the server may have. Trust is the pin alone (DESIGN.md decision 1): no CA chain,
/// no DNS name. Several pins stand for one peer during a key rotation.
/// </summary>
public sealed class UpstreamTls
{
    /// <param name="clientCertificate">Presented to the peer; must carry its private key. Owned by the caller.</param>
    /// <param name="pins">The accepted server key pins (<c>sha256//…</c>), at least one.</param>
    /// <exception cref="ArgumentException">No private key, no pin, or a malformed pin.</exception>
    public UpstreamTls(X509Certificate2 clientCertificate, IEnumerable<string> pins)
    {
        ArgumentNullException.ThrowIfNull(clientCertificate);
        ArgumentNullException.ThrowIfNull(pins);
        if (!clientCertificate.HasPrivateKey)
        {
            throw new ArgumentException("the client certificate has no private key", nameof(clientCertificate));
        }

        Pins = pins.ToFrozenSet(StringComparer.Ordinal);
        if (Pins.Count == 0 || Pins.Any(pin => !KeyPin.IsWellFormed(pin)))
        {
            throw new ArgumentException("at least one well-formed sha256//… pin is needed", nameof(pins));
        }

        ClientCertificate = clientCertificate;
        // Built once, not per handshake; offline: never fetch intermediates over the network.
        ClientCertificateContext = SslStreamCertificateContext.Create(clientCertificate, additionalCertificates: null, offline: true);
    }

    public X509Certificate2 ClientCertificate { get; }

    /// <summary>The server key pins accepted; any one of them will do.</summary>
    public IReadOnlySet<string> Pins { get; }

    internal SslStreamCertificateContext ClientCertificateContext { get; }
}
