namespace Gatehouse.Policy;

/// <summary>What the policy says about one request: allowed (with the role whose credential to use) or refused with a reason.</summary>
public readonly record struct AccessDecision(bool Allowed, string Reason, string? Role)
{
    /// <summary>For an allowed file upload: the largest body this principal may send (413 beyond it); null for no limit of its own.</summary>
    public long? MaxUploadBytes { get; init; }

    /// <summary>On a CouchDB route, the endpoint's class as the policy worked it out (null when the policy did not say): the handler forwards what was judged.</summary>
    public Proxy.CouchClassification? Couch { get; init; }

    /// <summary>The status of a refusal: 403 unless the request itself was malformed for its endpoint (400).</summary>
    public int StatusCode { get; init; } = 403;

    public static AccessDecision Allow(string? role = null) => new(true, "allowed", role);

    public static AccessDecision Deny(string reason) => new(false, reason, null);
}
