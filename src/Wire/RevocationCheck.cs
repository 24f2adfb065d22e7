namespace Gatehouse.Wire;

/// <summary>
/// A reload's verdict on a principal the trust still lets in (issue 7: open connections are re-judged
/// against the new trust <em>and policy</em>): the reason its open connections must close, or null to
/// keep them. The Wire layer knows no rules; the host that reloaded them supplies this.
/// </summary>
public delegate string? RevocationCheck(Principal principal);
