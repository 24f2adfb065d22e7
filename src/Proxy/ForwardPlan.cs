using Gatehouse.Http1;

namespace Gatehouse.Proxy;

/// <summary>What the policy decided to send upstream for one judged request.</summary>
/// <remarks>
/// Handlers take their connection's plan from <see cref="Forwarder.PlanFor"/>, emptied for each
/// request (issue 9): a plan and its header list per request were most of what a forward allocated.
/// </remarks>
public sealed class ForwardPlan
{
    private static readonly TimeSpan DefaultTunnelIdleTimeout = TimeSpan.FromMinutes(10);

    // The last origin form made here and what it was made from: a connection's parser hands back
    // the same (immutable) target object when a target repeats, so a repeated forward reuses the text.
    private CanonicalTarget? _formedFrom;
    private int _formedSkip;
    private string? _formedQuery;
    private string _formed = "/";

    /// <summary>
    /// The origin-form target to send, re-serialized from the canonical request with the mount
    /// prefix removed (e.g. by <c>TargetFrom(exchange.Request.Target, 1)</c>; DESIGN.md decision 2).
    /// </summary>
    public string Target { get; set; } = "/";

    /// <summary>
    /// Sets <see cref="Target"/> to <paramref name="target"/>'s origin form without its first
    /// <paramref name="skipSegments"/> segments, reusing the text when the same target repeats.
    /// </summary>
    public void TargetFrom(CanonicalTarget target, int skipSegments)
    {
        ArgumentNullException.ThrowIfNull(target);
        TargetFrom(target, skipSegments, target.Query);
    }

    /// <summary>
    /// As <see cref="TargetFrom(CanonicalTarget, int)"/>, with <paramref name="query"/> (rebuilt from
    /// the parameters the policy judged, issue 17) in place of the client's query.
    /// </summary>
    public void TargetFrom(CanonicalTarget target, int skipSegments, string? query)
    {
        ArgumentNullException.ThrowIfNull(target);
        if (!ReferenceEquals(target, _formedFrom) || skipSegments != _formedSkip || !string.Equals(query, _formedQuery, StringComparison.Ordinal))
        {
            _formed = target.ToOriginForm(skipSegments, query);
            _formedFrom = target;
            _formedSkip = skipSegments;
            _formedQuery = query;
        }

        Target = _formed;
    }

    /// <summary>
    /// Fields added after the client's end-to-end headers were filtered: the role's injected
    /// <c>Authorization</c>, <c>X-Gatehouse-Principal</c> and the like. Client copies of these names
    /// were already removed, so the backend only ever sees the gateway's values.
    /// </summary>
    public IList<KeyValuePair<string, string>> AddHeaders { get; } = [];

    /// <summary>
    /// Client fields to drop besides the built-in ones: every identity header name the route
    /// configured, so a client copy never passes even when the gateway has no value to set (issue 5).
    /// </summary>
    /// <remarks>A set made once per route and shared by its plans (compare names case-insensitively): a plan of its own per request would be a set per request.</remarks>
    public IReadOnlySet<string>? RemoveHeaders { get; set; }

    /// <summary>
    /// Forward a valid WebSocket upgrade as one, and tunnel bytes both ways after the upstream's
    /// <c>101</c> (issue 5). Any other Upgrade (h2c, websocket on a POST or without a valid key) and
    /// every Upgrade when this is off: Upgrade is hop-by-hop and dropped, the upstream answers
    /// plainly, and a 101 anyway is a 502 (issue 17).
    /// </summary>
    public bool AllowUpgrade { get; set; }

    /// <summary>
    /// Forward client fields whose name holds <c>_</c> (a proxy route's opt-in, issue 17). Off: they
    /// are dropped, since WSGI/CGI servers read <c>_</c> as <c>-</c>. On: still dropped when the
    /// dashed reading names a field the gateway sets or strips (identity, X-Forwarded-*, Forwarded …).
    /// </summary>
    public bool AllowUnderscoreHeaders { get; set; }

    /// <summary>
    /// The client's own <c>Cookie</c> / <c>Authorization</c> to send upstream (a proxy route, issue 19).
    /// Default none: both are dropped, as CouchDB routes and peer links need. A name in
    /// <see cref="AddHeaders"/> still replaces the client's copy.
    /// </summary>
    public ClientCredentials PassCredentials { get; set; }

    /// <summary>
    /// The answer is a feed that never ends by itself (a continuous <c>_changes</c>): when the server
    /// begins to stop, it is ended at once with a clean last chunk, so the client reconnects, instead of
    /// holding the drain for the whole grace. Answers of type <c>text/event-stream</c> count as feeds too.
    /// </summary>
    public bool IsFeed { get; set; }

    /// <summary>A tunnel with no byte either way for this long is closed. Default 10 min.</summary>
    public TimeSpan TunnelIdleTimeout { get; set; } = DefaultTunnelIdleTimeout;

    /// <summary>
    /// Called with the exchange and each end-to-end response field (name, value) before it is copied
    /// to the client; returns the value to send (Location rewriting, issue 5). Null: copied as is.
    /// Given the exchange, one delegate made per route serves every request (no closure per request).
    /// </summary>
    public Func<HttpExchange, string, string, string>? RewriteResponseField { get; set; }

    /// <summary>
    /// The only field names <see cref="RewriteResponseField"/> may change (a route's fixed list): the
    /// other fields go to the client as the bytes they came in. Null: every field is offered to it.
    /// </summary>
    public IReadOnlyList<string>? RewrittenResponseFields { get; set; }

    /// <summary>
    /// Answers the gateway's own 502/504 when the upstream fails before answering (an HTML page for
    /// browsers, issue 5), given the exchange. Null: <see cref="HttpResponse.SendErrorAsync"/>'s JSON.
    /// </summary>
    public Func<HttpExchange, int, string, CancellationToken, ValueTask>? SendError { get; set; }

    /// <summary>
    /// The body to send instead of the exchange's own: a wrapper that reads the client's body and
    /// may refuse it (a design document in a CouchDB write, issue 17) by throwing
    /// <see cref="RequestRejectedException"/>, which ends the forward with that status and aborts the
    /// upstream request before its body is complete. Null: the exchange's body, untouched.
    /// </summary>
    public RequestBody? Body { get; set; }

    /// <summary>Every field back to its default, so nothing of the previous request's plan is sent with the next.</summary>
    internal void Reset()
    {
        Target = "/";
        AddHeaders.Clear(); // keeps its array for the next request's fields
        RemoveHeaders = null;
        AllowUpgrade = false;
        AllowUnderscoreHeaders = false;
        PassCredentials = ClientCredentials.None;
        IsFeed = false;
        TunnelIdleTimeout = DefaultTunnelIdleTimeout;
        RewriteResponseField = null;
        RewrittenResponseFields = null;
        SendError = null;
        Body = null;
    }
}
