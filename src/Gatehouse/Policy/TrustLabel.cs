using Gatehouse.Wire;

namespace Gatehouse.Policy;

/// <summary>How a principal was trusted, as whoami and the provenance records spell it: "ca", "pin", "local" or "none".</summary>
internal static class TrustLabel
{
    public static string Of(TrustSource source) => source switch
    {
        TrustSource.CertificateAuthority => "ca",
        TrustSource.PinnedKey => "pin",
        TrustSource.LocalListener => "local",
        _ => "none",
    };
}
