using System.Collections.Concurrent;
using System.Collections.Frozen;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace Gatehouse.Wire;

/// <summary>
/// Decides whether a client certificate is let in (DESIGN.md decision 1). In order:
/// 1. no certificate → refused;
/// 2. the key is on the deny list → refused (the deny list wins over everything);
/// 3. outside its validity period → refused ("expired keys are out", for pins too);
/// 4. an EKU extension without clientAuth or anyExtendedKeyUsage → refused (RFC 5280 §4.2.1.12);
/// 5. a weak key (under RSA 2048 or P-256) or a SHA-1/MD5 signature → refused, pinned or not
///    (<see cref="CertificateStrength"/>);
/// 6. the key is on the whitelist → in, as <see cref="TrustSource.PinnedKey"/> (self-signed is fine,
///    and so is its cA=TRUE, which <c>openssl req -x509</c> sets);
/// 7. it chains to one of the user CAs with a custom root trust, never the system store, through no
///    weak certificate, and is not itself a CA certificate → in, as <see cref="TrustSource.CertificateAuthority"/>.
/// Thread-safe: one instance serves every handshake.
/// </summary>
public sealed class ClientTrust
{
    private readonly TrustedCa[] _cas;
    private readonly FrozenDictionary<string, string> _pins;
    private readonly FrozenSet<string> _denied;
    private readonly TimeProvider _time;
    private readonly HandshakeChain? _handshakeChain;

    // One object per identity, not per handshake (issue 22, item 3). Connections from one key share
    // it, and so does what is cached against the object: the policy's matched rules (a
    // ConditionalWeakTable entry, so a GC dependent handle, per distinct object) and whoami's answer.
    // Bounded: past the cap a new identity gets its own object, as every handshake did before.
    private readonly ConcurrentDictionary<Principal, Principal> _principals = new();

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

    /// <summary>How many distinct principals are shared between handshakes at most.</summary>
    internal const int MaxSharedPrincipals = 1_024;

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

        // What the rules read (public key, extensions, names) stays cached on the object read, and an
        // admitted connection keeps its certificate while open (~2.6 KiB each, issue 22): so they read
        // a second object over the same native certificate, gone when judged.
        using var judged = new X509Certificate2(clientCertificate);
        return Judge(judged, handshakeChain);
    }

    private TrustDecision Judge(X509Certificate2 clientCertificate, X509Chain? handshakeChain)
    {
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

        if (!CertificateStrength.KeyIsStrong(clientCertificate))
        {
            return TrustDecision.Refuse(Reasons.WeakKey);
        }

        // A pinned self-signed leaf is its own anchor, so its signature proves little; it is checked
        // all the same: one rule for every leaf is simpler to state and to trust than an exception.
        if (!CertificateStrength.SignatureIsStrong(clientCertificate))
        {
            return TrustDecision.Refuse(Reasons.WeakSignature);
        }

        string subject = clientCertificate.Subject;
        if (_pins.TryGetValue(pin, out string? entryName))
        {
            return TrustDecision.Allow(Shared(new Principal(pin, subject, TrustSource.PinnedKey, entryName)));
        }

        // The handshake's chain is the leaf and the CA alone (see HandshakeChain.Anchor): nothing in
        // between to judge, and the leaf was judged above.
        TrustedCa? issuer = handshakeChain is null ? null : _handshakeChain?.Anchor(handshakeChain, clientCertificate);
        string reason = Reasons.UnknownIssuer;
        for (int i = 0; issuer is null && i < _cas.Length; i++)
        {
            string? failure = ChainFailure(clientCertificate, _cas[i].Certificate, now);
            if (failure is null)
            {
                issuer = _cas[i];
            }
            else if (failure != Reasons.UnknownIssuer)
            {
                // With several CAs, a specific failure from the CA that did issue it (say, a bad signature)
                // says more than "unknown issuer" from the others.
                reason = failure;
            }
        }

        if (issuer is null)
        {
            return TrustDecision.Refuse(reason);
        }

        // Judged only once a CA vouches for it: an unpinned `openssl req -x509` certificate (cA=TRUE)
        // is an unknown issuer, and saying "CA certificate" would hide the fix (pin it).
        if (clientCertificate.Extensions[Oids.BasicConstraints] is X509BasicConstraintsExtension { CertificateAuthority: true })
        {
            return TrustDecision.Refuse(Reasons.CaCertificate);
        }

        return TrustDecision.Allow(Shared(new Principal(pin, subject, TrustSource.CertificateAuthority, issuer.Name)));
    }

    /// <summary>The object already standing for <paramref name="principal"/>'s identity, if any.</summary>
    private Principal Shared(Principal principal)
    {
        if (_principals.TryGetValue(principal, out Principal? known))
        {
            return known;
        }

        return _principals.Count < MaxSharedPrincipals ? _principals.GetOrAdd(principal, principal) : principal;
    }

    /// <summary>
    /// RFC 5280 §4.2.1.12: if the EKU extension is present, the key may be used only for the listed
    /// purposes, and anyExtendedKeyUsage lists every purpose. So a certificate without the extension
    /// and one that lists anyExtendedKeyUsage are let in alike: refusing both instead would lock out
    /// pinned keys made by <c>openssl req -x509</c> (no EKU) that are let in today.
    /// </summary>
    private static bool AllowsClientAuth(X509Certificate2 certificate)
    {
        if (certificate.Extensions[Oids.EnhancedKeyUsage] is not X509EnhancedKeyUsageExtension eku)
        {
            return true;
        }

        foreach (Oid usage in eku.EnhancedKeyUsages)
        {
            if (usage.Value is Oids.ClientAuth or Oids.AnyExtendedKeyUsage)
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
        // No ApplicationPolicy: the platform would read anyExtendedKeyUsage as not clientAuth, and so
        // refuse what AllowsClientAuth lets in; ChainElementFailure asks every issuer the same question.

        try
        {
            bool built = chain.Build(leaf);
            return built ? ChainElementFailure(chain.ChainElements) : Describe(chain.ChainStatus);
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

    /// <summary>
    /// What is wrong with the issuers of a chain that built, or null. Every one of them, the CA
    /// included, must allow clientAuth (EKU chaining, as the platform's ApplicationPolicy did). Those
    /// between the leaf (judged already) and the CA must have a strong key and signature; the CA's own
    /// key is the user's choice, and its own signature proves nothing: it is a trust anchor, taken on trust.
    /// </summary>
    internal static string? ChainElementFailure(X509ChainElementCollection elements)
    {
        for (int i = 1; i < elements.Count; i++)
        {
            X509Certificate2 issuer = elements[i].Certificate;
            if (!AllowsClientAuth(issuer))
            {
                return Reasons.NotForClientAuth;
            }

            bool anchor = i == elements.Count - 1;
            if (!anchor && !CertificateStrength.KeyIsStrong(issuer))
            {
                return Reasons.WeakKey;
            }

            if (!anchor && !CertificateStrength.SignatureIsStrong(issuer))
            {
                return Reasons.WeakSignature;
            }
        }

        return null;
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
        public const string CaCertificate = "CA certificate";
        public const string WeakKey = "weak key";
        public const string WeakSignature = "weak signature";
    }
}
