namespace Gatehouse.Wire;

/// <summary>The outcome of checking a client certificate: a principal to let in, or a short refusal reason.</summary>
/// <param name="Principal">Who is let in; null when refused.</param>
/// <param name="RefusalReason">Why not, e.g. <c>"expired"</c>, <c>"unknown issuer"</c>, <c>"denied key"</c>.</param>
public sealed record TrustDecision(Principal? Principal, string? RefusalReason)
{
    /// <summary>True when the connection may proceed.</summary>
    public bool IsTrusted => Principal is not null;

    /// <summary>A decision that lets <paramref name="principal"/> in.</summary>
    public static TrustDecision Allow(Principal principal) => new(principal, null);

    /// <summary>A decision that refuses, for <paramref name="reason"/>.</summary>
    public static TrustDecision Refuse(string reason) => new(null, reason);
}
