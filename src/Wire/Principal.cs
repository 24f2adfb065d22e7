namespace Gatehouse.Wire;

/// <summary>How a principal came to be trusted.</summary>
public enum TrustSource
{
    /// <summary>No client certificate (a plain listener that is not marked local).</summary>
    None,

    /// <summary>The client certificate chained to a configured user CA.</summary>
    CertificateAuthority,

    /// <summary>The client key's pin is on the whitelist (self-signed is fine).</summary>
    PinnedKey,

    /// <summary>A plain-HTTP loopback listener marked local: the device's own user.</summary>
    LocalListener,
}

/// <summary>
/// Who is on the other end of a connection. Identity is a key (DESIGN.md decision 1):
/// <see cref="Pin"/> is the SHA-256 of the client certificate's SubjectPublicKeyInfo,
/// written as curl's <c>--pinnedpubkey</c> takes it (<c>sha256//base64</c>).
/// </summary>
/// <param name="Pin">The key pin, or empty when there is no certificate.</param>
/// <param name="Subject">The certificate's subject (informational only, never used for trust).</param>
/// <param name="Source">How the principal was trusted.</param>
/// <param name="TrustName">The CA name or whitelist entry name that let it in.</param>
public sealed record Principal(string Pin, string Subject, TrustSource Source, string TrustName)
{
    /// <summary>A caller without a certificate.</summary>
    public static Principal Anonymous { get; } = new(string.Empty, string.Empty, TrustSource.None, string.Empty);

    /// <summary>The device's own user on a loopback listener marked local.</summary>
    public static Principal Local { get; } = new(string.Empty, "local", TrustSource.LocalListener, "local");

    /// <summary>True when a key was presented and verified.</summary>
    public bool HasKey => Pin.Length != 0;
}
