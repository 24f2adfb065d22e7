using Gatehouse.Wire;

namespace Gatehouse.Config;

/// <summary>
/// What a principal selector in the config may look like: "ca:NAME", "pinned:NAME", "sha256//…",
/// "anonymous", "local" or "*". Matching one against a principal is the policy's job.
/// </summary>
public static class PrincipalSelectorSyntax
{
    public static bool IsValid(string selector) =>
        selector is "*" or "anonymous" or "local"
        || (selector.StartsWith("ca:", StringComparison.Ordinal) && selector.Length > 3)
        || (selector.StartsWith("pinned:", StringComparison.Ordinal) && selector.Length > 7)
        || KeyPin.IsWellFormed(selector);
}
