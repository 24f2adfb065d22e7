using System.Collections.Frozen;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace Gatehouse.Wire;

/// <summary>
/// Decides whether a client certificate is let in (DESIGN.md decision 1). In order:
/// 1. no certificate → refused;
/// 2. the key is on the deny list → refused (the deny list wins over everything);
/// 3. outside its validity period → refused ("expired keys are out", for pins too);
/// 4. an EKU extension without clientAuth → refused (RFC 5280 §4.2.1.12);
/// 5. the key is on the whitelist → in, as <see cref="TrustSource.PinnedKey"/> (self-signed is fine);
/// 6. it chains to one of the user CAs with a custom root trust, never the system store → in,
///    as <see cref="TrustSource.CertificateAuthority"/>.
/// Thread-safe: one instance serves every handshake.
/// </summary>
public sealed class ClientTrust
{
    private readonly TrustedCa[] _cas;
    private readonly FrozenDictionary<string, string> _pins;
    private readonly FrozenSet<string> _denied;
    private readonly TimeProvider _time;
    private readonly HandshakeChain? _handshakeChain;

    /// <summary>Creates the trust from the configured CAs, whitelist and deny list.</summary>
    /// <exception cref="ArgumentException">A pin is not well formed, or a CA is not a CA certificate.</exception>
    public ClientTrust(IEnumerable<TrustedCa> cas, IEnumerable<PinnedKey> pins, IEnumerable<string> deniedPins, TimeProvider? time = null)
    {
        ArgumentNullException.ThrowIfNull(cas);
        ArgumentNullException.ThrowIfNull(pins);
        ArgumentNullException.ThrowIfNull(deniedPins);

        _cas = [.. cas];
        foreach (TrustedCa ca in _cas)
        {
            ArgumentNullException.ThrowIfNull(ca, nameof(cas));
            if (ca.Certificate.Extensions[Oids.BasicConstraints] is X509BasicConstraintsExtension { CertificateAuthority: false })
            {
                throw new ArgumentException($"trusted CA '{ca.Name}' is not a CA certificate (basicConstraints cA=false)", nameof(cas));
            }
        }

        // Several pins may stand for one principal during a key rotation (DESIGN.md decision 1),
        // so the same name may appear more than once; the same pin twice keeps the first name.
        var pinMap = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (PinnedKey pin in pins)
        {
            ArgumentNullException.ThrowIfNull(pin, nameof(pins));
            if (!KeyPin.IsWellFormed(pin.Pin))
            {
                throw new ArgumentException($"pin of '{pin.Name}' is not of the form sha256//<base64 of 32 bytes>", nameof(pins));
            }

            pinMap.TryAdd(pin.Pin, pin.Name);
        }

        var denied = new HashSet<string>(StringComparer.Ordinal);
        foreach (string pin in deniedPins)
        {
            if (!KeyPin.IsWellFormed(pin))
            {
                throw new ArgumentException($"denied pin '{pin}' is not of the form sha256//<base64 of 32 bytes>", nameof(deniedPins));
            }

            denied.Add(pin);
        }

        _pins = pinMap.ToFrozenDictionary(StringComparer.Ordinal);
        _denied = denied.ToFrozenSet(StringComparer.Ordinal);
        _time = time ?? TimeProvider.System;
        _handshakeChain = HandshakeChain.For(_cas, _time);
    }

    /// <summary>
    /// The chain policy for SslStream's own build during the handshake (the user CAs as custom roots),
    /// whose chain <see cref="Evaluate(X509Certificate2?, X509Chain?)"/> can then use instead of
    /// building another; null when it cannot (no CAs, or a clock other than the system's).
    /// </summary>
    internal X509ChainPolicy? HandshakeChainPolicy => _handshakeChain?.Policy;

    /// <summary>Checks a presented client certificate; see the class summary for the order of the rules.</summary>
    public TrustDecision Evaluate(X509Certificate2? clientCertificate) => Evaluate(clientCertificate, handshakeChain: null);

    /// <summary>
    /// As <see cref="Evaluate(X509Certificate2?)"/>, given the chain SslStream built with
    /// <see cref="HandshakeChainPolicy"/>: when it proves one of the CAs issued the key, rule 6 takes
    /// its word instead of building the chain again; otherwise rule 6 runs as always.
    /// </summary>
    internal TrustDecision Evaluate(X509Certificate2? clientCertificate, X509Chain? handshakeChain)
    {
        if (clientCertificate is null)
        {
            return TrustDecision.Refuse(Reasons.NoCertificate);
        }

        string pin = KeyPin.Compute(clientCertificate);
        if (_denied.Contains(pin))
        {
            return TrustDecision.Refuse(Reasons.DeniedKey);
        }

        DateTimeOffset now = _time.GetUtcNow();
        if (now < clientCertificate.NotBefore.ToUniversalTime())
        {
            return TrustDecision.Refuse(Reasons.NotYetValid);
        }

        if (now > clientCertificate.NotAfter.ToUniversalTime())
        {
            return TrustDecision.Refuse(Reasons.Expired);
        }

        if (!AllowsClientAuth(clientCertificate))
        {
            return TrustDecision.Refuse(Reasons.NotForClientAuth);
        }

        string subject = clientCertificate.Subject;
        if (_pins.TryGetValue(pin, out string? entryName))
        {
            return TrustDecision.Allow(new Principal(pin, subject, TrustSource.PinnedKey, entryName));
        }

        if (handshakeChain is not null && _handshakeChain?.Anchor(handshakeChain, clientCertificate) is { } issuer)
        {
            return TrustDecision.Allow(new Principal(pin, subject, TrustSource.CertificateAuthority, issuer.Name));
        }

        string reason = Reasons.UnknownIssuer;
        foreach (TrustedCa ca in _cas)
        {
            string? failure = ChainFailure(clientCertificate, ca.Certificate, now);
            if (failure is null)
            {
                return TrustDecision.Allow(new Principal(pin, subject, TrustSource.CertificateAuthority, ca.Name));
            }

            // With several CAs, a specific failure from the CA that did issue it (say, a bad signature)
            // says more than "unknown issuer" from the others.
            if (failure != Reasons.UnknownIssuer)
            {
                reason = failure;
            }
        }

        return TrustDecision.Refuse(reason);
    }

    /// <summary>RFC 5280 §4.2.1.12: if the EKU extension is present, the key may be used only for the listed purposes.</summary>
    private static bool AllowsClientAuth(X509Certificate2 certificate)
    {
        if (certificate.Extensions[Oids.EnhancedKeyUsage] is not X509EnhancedKeyUsageExtension eku)
        {
            return true;
        }

        foreach (Oid usage in eku.EnhancedKeyUsages)
        {
            if (usage.Value == Oids.ClientAuth)
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>Builds the chain against exactly one CA; null on success, else a short reason.</summary>
    private static string? ChainFailure(X509Certificate2 leaf, X509Certificate2 caCertificate, DateTimeOffset now)
    {
        using var chain = new X509Chain();
        X509ChainPolicy policy = chain.ChainPolicy;
        // Custom root trust with this one CA: the system store must never vouch for a client.
        policy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        policy.CustomTrustStore.Add(caCertificate);
        // Revocation is out of scope: the user revokes a key by putting its pin on the deny list.
        policy.RevocationMode = X509RevocationMode.NoCheck;
        // Never fetch issuers over the network (AIA) during a handshake.
        policy.DisableCertificateDownloads = true;
        policy.VerificationTime = now.UtcDateTime;
        policy.ApplicationPolicy.Add(new Oid(Oids.ClientAuth));

        try
        {
            bool built = chain.Build(leaf);
            return built ? null : Describe(chain.ChainStatus);
        }
        catch (CryptographicException)
        {
            return Reasons.UnknownIssuer;
        }
        finally
        {
            // Chain elements are fresh certificate objects that own native handles: dispose them,
            // but never the caller's leaf or the configured CA.
            foreach (X509ChainElement element in chain.ChainElements)
            {
                if (!ReferenceEquals(element.Certificate, leaf) && !ReferenceEquals(element.Certificate, caCertificate))
                {
                    element.Certificate.Dispose();
                }
            }
        }
    }

    private static string Describe(X509ChainStatus[] statuses)
    {
        X509ChainStatusFlags flags = X509ChainStatusFlags.NoError;
        foreach (X509ChainStatus status in statuses)
        {
            flags |= status.Status;
        }

        // Most specific first: a certificate that is both expired and unknown is reported as unknown,
        // because no CA of ours vouches for it at all.
        if ((flags & (X509ChainStatusFlags.UntrustedRoot | X509ChainStatusFlags.PartialChain)) != 0)
        {
            return Reasons.UnknownIssuer;
        }

        if ((flags & X509ChainStatusFlags.NotSignatureValid) != 0)
        {
            return Reasons.BadSignature;
        }

        if ((flags & X509ChainStatusFlags.NotTimeValid) != 0)
        {
            return Reasons.IssuerExpired;
        }

        if ((flags & X509ChainStatusFlags.NotValidForUsage) != 0)
        {
            return Reasons.NotForClientAuth;
        }

        if ((flags & (X509ChainStatusFlags.InvalidBasicConstraints | X509ChainStatusFlags.InvalidExtension | X509ChainStatusFlags.HasNotSupportedCriticalExtension)) != 0)
        {
            return Reasons.InvalidChain;
        }

        return Reasons.UnknownIssuer;
    }

    /// <summary>The short refusal reasons, as logged and as seen in <see cref="TrustDecision.RefusalReason"/>.</summary>
    internal static class Reasons
    {
        public const string NoCertificate = "no client certificate";
        public const string DeniedKey = "denied key";
        public const string Expired = "expired";
        public const string NotYetValid = "not yet valid";
        public const string NotForClientAuth = "not for client auth";
        public const string UnknownIssuer = "unknown issuer";
        public const string BadSignature = "bad signature";
        public const string IssuerExpired = "issuer expired";
        public const string InvalidChain = "invalid chain";
    }
}
