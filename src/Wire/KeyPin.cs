using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace Gatehouse.Wire;

/// <summary>
/// A key pin is the SHA-256 of a certificate's SubjectPublicKeyInfo, written the way curl's
/// <c>--pinnedpubkey</c> takes it (<c>sha256//base64</c>), so a user can paste it straight into curl
/// (DESIGN.md decision 1; RFC 7469 §2.4 defines the same SPKI fingerprint).
/// </summary>
public static class KeyPin
{
    /// <summary>The prefix curl expects in front of the base64 digest.</summary>
    public const string Prefix = "sha256//";

    /// <summary>Computes the pin of the certificate's public key.</summary>
    public static string Compute(X509Certificate2 cert)
    {
        ArgumentNullException.ThrowIfNull(cert);
        // The pin covers the key, not the certificate: a re-issued certificate for the same key keeps its pin.
        byte[] spki = cert.PublicKey.ExportSubjectPublicKeyInfo();
        return Prefix + Convert.ToBase64String(SHA256.HashData(spki));
    }

    /// <summary>True when <paramref name="pin"/> is <c>sha256//</c> followed by base64 of exactly 32 bytes.</summary>
    public static bool IsWellFormed(string? pin)
    {
        if (pin is null || !pin.StartsWith(Prefix, StringComparison.Ordinal))
        {
            return false;
        }

        ReadOnlySpan<char> body = pin.AsSpan(Prefix.Length);
        // 32 bytes are always 44 base64 characters with one '=' of padding; anything else is a typo.
        if (body.Length != 44)
        {
            return false;
        }

        Span<byte> digest = stackalloc byte[33];
        return Convert.TryFromBase64Chars(body, digest, out int written) && written == SHA256.HashSizeInBytes;
    }
}
