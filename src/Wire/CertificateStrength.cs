using System.Collections.Frozen;
using System.Formats.Asn1;
using System.Numerics;
using System.Security.Cryptography.X509Certificates;

namespace Gatehouse.Wire;

/// <summary>
/// The floor a client certificate must clear however it is trusted, pinned or CA-issued (issue 17
/// item 6): a key of RSA 2048 bits or more, or ECDSA on P-256, P-384 or P-521 (or a brainpool r1 curve
/// of 256 bits and up), and a signature made with neither SHA-1 nor MD5. Reads the DER only, so no
/// native key object is made per handshake.
/// </summary>
internal static class CertificateStrength
{
    /// <summary>NIST SP 800-131A and the CA/B Forum have refused smaller RSA keys since 2013.</summary>
    public const int MinRsaBits = 2048;

    // An allowlist (DESIGN.md decision 3): a curve we do not name here, or one given by explicit
    // parameters rather than by name (the CVE-2020-0601 trick), is refused, not measured.
    private static readonly FrozenSet<string> s_strongCurves = FrozenSet.ToFrozenSet(
    [
        "1.2.840.10045.3.1.7", // P-256
        "1.3.132.0.34", // P-384
        "1.3.132.0.35", // P-521
        "1.3.36.3.3.2.8.1.1.7", // brainpoolP256r1
        "1.3.36.3.3.2.8.1.1.11", // brainpoolP384r1
        "1.3.36.3.3.2.8.1.1.13", // brainpoolP512r1
    ], StringComparer.Ordinal);

    // A blocklist, unlike the keys: what is broken is the hash (a collision lets someone get a
    // signature over a certificate the signer never saw), and these are the signature algorithms
    // that name one of those hashes.
    private static readonly FrozenSet<string> s_weakSignatures = FrozenSet.ToFrozenSet(
    [
        "1.2.840.113549.1.1.2", // md2WithRSAEncryption
        "1.2.840.113549.1.1.4", // md5WithRSAEncryption
        "1.2.840.113549.1.1.5", // sha1WithRSAEncryption
        "1.3.14.3.2.29", // sha1WithRSASignature (OIW)
        "1.2.840.10045.4.1", // ecdsa-with-SHA1
        "1.2.840.10040.4.3", // dsa-with-sha1
    ], StringComparer.Ordinal);

    private static readonly FrozenSet<string> s_weakHashes = FrozenSet.ToFrozenSet(
    [
        "1.3.14.3.2.26", // SHA-1
        "1.2.840.113549.2.5", // MD5
        "1.2.840.113549.2.2", // MD2
    ], StringComparer.Ordinal);

    /// <summary>True for RSA of at least <see cref="MinRsaBits"/>, a strong named EC curve, or Ed25519/Ed448; false for anything else (DSA included).</summary>
    public static bool KeyIsStrong(X509Certificate2 certificate)
    {
        ArgumentNullException.ThrowIfNull(certificate);
        PublicKey key = certificate.PublicKey;
        try
        {
            return key.Oid.Value switch
            {
                Oids.RsaEncryption or Oids.RsaPss => RsaModulusBits(key.EncodedKeyValue.RawData) >= MinRsaBits,
                Oids.EcPublicKey => key.EncodedParameters is { } curve && s_strongCurves.Contains(new AsnReader(curve.RawData, AsnEncodingRules.DER).ReadObjectIdentifier()),
                Oids.Ed25519 or Oids.Ed448 => true,
                _ => false,
            };
        }
        catch (AsnContentException)
        {
            return false;
        }
    }

    /// <summary>False when the certificate's own signature uses SHA-1, MD5 or MD2, RSASSA-PSS over them included.</summary>
    public static bool SignatureIsStrong(X509Certificate2 certificate)
    {
        ArgumentNullException.ThrowIfNull(certificate);
        string? algorithm = certificate.SignatureAlgorithm.Value;
        if (algorithm == Oids.RsaPss)
        {
            return PssHashIsStrong(certificate.RawDataMemory);
        }

        return algorithm is not null && !s_weakSignatures.Contains(algorithm);
    }

    /// <summary>The bit length of the modulus of a DER RSAPublicKey (RFC 8017 §A.1.1).</summary>
    private static int RsaModulusBits(byte[] rsaPublicKey)
    {
        AsnReader key = new AsnReader(rsaPublicKey, AsnEncodingRules.DER).ReadSequence();
        // DER puts a zero byte in front of a positive INTEGER whose top bit is set.
        ReadOnlySpan<byte> modulus = key.ReadIntegerBytes().Span.TrimStart((byte)0);
        return modulus.IsEmpty ? 0 : ((modulus.Length - 1) * 8) + 32 - BitOperations.LeadingZeroCount(modulus[0]);
    }

    /// <summary>
    /// RSASSA-PSS names its hash in the parameters, and an absent hash means SHA-1 (RFC 4055 §3.1),
    /// so "PSS" alone says nothing: read Certificate.signatureAlgorithm's parameters.
    /// </summary>
    private static bool PssHashIsStrong(ReadOnlyMemory<byte> certificate)
    {
        try
        {
            AsnReader outer = new AsnReader(certificate, AsnEncodingRules.DER).ReadSequence();
            outer.ReadEncodedValue(); // tbsCertificate
            AsnReader algorithm = outer.ReadSequence();
            algorithm.ReadObjectIdentifier();
            if (!algorithm.HasData)
            {
                return false;
            }

            AsnReader parameters = algorithm.ReadSequence();
            var hashTag = new Asn1Tag(TagClass.ContextSpecific, 0, isConstructed: true);
            if (!parameters.HasData || parameters.PeekTag() != hashTag)
            {
                return false;
            }

            // [0] is an explicit tag (RFC 4055's module is EXPLICIT TAGS) around an AlgorithmIdentifier.
            string hash = parameters.ReadSequence(hashTag).ReadSequence().ReadObjectIdentifier();
            return !s_weakHashes.Contains(hash);
        }
        catch (AsnContentException)
        {
            return false;
        }
    }
}
