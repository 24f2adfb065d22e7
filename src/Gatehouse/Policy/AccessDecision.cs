namespace Gatehouse.Policy;

/// <summary>What the policy says about one request: allowed (with the role whose credential to use) or refused with a reason.</summary>
public readonly record struct AccessDecision(bool Allowed, string Reason, string? Role)
{
    public static AccessDecision Allow(string? role = null) => new(true, "allowed", role);

    public static AccessDecision Deny(string reason) => new(false, reason, null);
}
