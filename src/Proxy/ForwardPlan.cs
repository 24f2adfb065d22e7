namespace Gatehouse.Proxy;

/// <summary>What the policy decided to send upstream for one judged request.</summary>
public sealed class ForwardPlan
{
    /// <summary>
    /// The origin-form target to send, re-serialized from the canonical request with the mount
    /// prefix removed (e.g. <c>exchange.Request.Target.ToOriginForm(1)</c>; DESIGN.md decision 2).
    /// </summary>
    public string Target { get; set; } = "/";

    /// <summary>
    /// Fields added after the client's end-to-end headers were filtered: the role's injected
    /// <c>Authorization</c>, <c>X-Gatehouse-Principal</c> and the like. Client copies of these names
    /// were already removed, so the backend only ever sees the gateway's values.
    /// </summary>
    public IList<KeyValuePair<string, string>> AddHeaders { get; } = [];
}
