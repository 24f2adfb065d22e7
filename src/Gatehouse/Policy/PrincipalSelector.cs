using Gatehouse.Wire;

namespace Gatehouse.Policy;

/// <summary>
/// Matches a principal against a rule's selector: "ca:NAME" (chained to that user CA),
/// "pinned:NAME" (that whitelist entry), "sha256//…" (that exact key), "anonymous"
/// (no certificate on an optional listener), "local" (the loopback user), "*" (anyone let in).
/// </summary>
public static class PrincipalSelector
{
    public static bool IsValid(string selector) => Config.PrincipalSelectorSyntax.IsValid(selector);

    public static bool Matches(string selector, Principal principal) => selector switch
    {
        "*" => true,
        "anonymous" => principal.Source == TrustSource.None,
        "local" => principal.Source == TrustSource.LocalListener,
        _ when selector.StartsWith("ca:", StringComparison.Ordinal) =>
            principal.Source == TrustSource.CertificateAuthority && string.Equals(principal.TrustName, selector[3..], StringComparison.Ordinal),
        _ when selector.StartsWith("pinned:", StringComparison.Ordinal) =>
            principal.Source == TrustSource.PinnedKey && string.Equals(principal.TrustName, selector[7..], StringComparison.Ordinal),
        _ => principal.HasKey && string.Equals(principal.Pin, selector, StringComparison.Ordinal),
    };
}
