using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace Gatehouse.Wire;

/// <summary>
/// The chain SslStream builds for every client certificate anyway (it always does, before our
/// callback), given the user CAs as its custom roots so that its verdict can stand in for
/// <see cref="ClientTrust"/>'s own chain build in the common case: a leaf issued directly by one of
/// the CAs. Anything else (a refusal, a longer chain, CAs that share a subject name) is judged by
/// ClientTrust's per-CA builds as before, so the outcome and the refusal reasons do not change;
/// only the second chain build of an accepted handshake goes.
/// </summary>
internal sealed class HandshakeChain
{
    private readonly TrustedCa[] _anchors;

    private HandshakeChain(TrustedCa[] anchors, X509ChainPolicy policy)
    {
        _anchors = anchors;
        Policy = policy;
    }

    /// <summary>The policy the handshake's chain is built with (SslStream clones it per connection).</summary>
    public X509ChainPolicy Policy { get; }

    /// <summary>
    /// The handshake chain for <paramref name="cas"/>, or null when none can stand in for ClientTrust:
    /// no CAs, or a clock other than the system's (SslStream builds at the system's time).
    /// </summary>
    public static HandshakeChain? For(TrustedCa[] cas, TimeProvider time)
    {
        if (cas.Length == 0 || time != TimeProvider.System)
        {
            return null;
        }

        var policy = new X509ChainPolicy
        {
            // ClientTrust's per-CA rules, with every user CA at once; and clientAuth as the platform
            // reads it, stricter than ClientTrust (it refuses anyExtendedKeyUsage): such a key is
            // judged by ClientTrust's own build instead.
            TrustMode = X509ChainTrustMode.CustomRootTrust,
            RevocationMode = X509RevocationMode.NoCheck,
            DisableCertificateDownloads = true,
        };
        policy.ApplicationPolicy.Add(new Oid(Oids.ClientAuth));
        foreach (TrustedCa ca in cas)
        {
            policy.CustomTrustStore.Add(ca.Certificate);
        }

        // With two CAs of the same name the per-CA order decides which one a key is trusted under;
        // a combined chain cannot tell, so such CAs are never anchors here.
        TrustedCa[] anchors = [.. cas.Where(ca => cas.Count(other => other.Certificate.SubjectName.RawData.AsSpan().SequenceEqual(ca.Certificate.SubjectName.RawData)) == 1)];
        return new HandshakeChain(anchors, policy);
    }

    /// <summary>
    /// The CA that <paramref name="chain"/> (built with <see cref="Policy"/>) proves issued
    /// <paramref name="leaf"/> directly, or null when the chain proves nothing of the kind.
    /// </summary>
    public TrustedCa? Anchor(X509Chain chain, X509Certificate2 leaf)
    {
        foreach (X509ChainStatus status in chain.ChainStatus)
        {
            if (status.Status != X509ChainStatusFlags.NoError)
            {
                return null;
            }
        }

        X509ChainElementCollection elements = chain.ChainElements;
        if (elements.Count != 2 || !SameCertificate(elements[0].Certificate, leaf))
        {
            return null;
        }

        X509Certificate2 root = elements[1].Certificate;
        foreach (TrustedCa ca in _anchors)
        {
            if (SameCertificate(root, ca.Certificate))
            {
                return ca;
            }
        }

        return null;
    }

    private static bool SameCertificate(X509Certificate2 a, X509Certificate2 b) =>
        a.RawDataMemory.Span.SequenceEqual(b.RawDataMemory.Span);
}
