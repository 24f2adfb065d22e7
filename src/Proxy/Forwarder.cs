using Gatehouse.Http1;

namespace Gatehouse.Proxy;

/// <summary>
/// Forwards one judged request to the upstream and streams the answer back (issue 3, DESIGN.md
/// "a request's path through the house"). See <see cref="ForwardOperation"/> for the steps.
/// </summary>
public static class Forwarder
{
    /// <summary>
    /// Forwards <paramref name="exchange"/> as <paramref name="plan"/> says. Errors before the answer
    /// starts are answered here (502/504 with a CouchDB-style JSON body) and returned; after it
    /// started, <see cref="HttpResponse.KeepAlive"/> is turned off and a
    /// <see cref="ForwardAbortedException"/> (an <see cref="IOException"/>) is thrown, so the
    /// connection closes and a truncated body never looks complete.
    /// </summary>
    /// <exception cref="ArgumentException">The plan's target or an added header is malformed (nothing was sent).</exception>
    public static ValueTask<ForwardResult> ForwardAsync(HttpExchange exchange, UpstreamPool upstream, ForwardPlan plan, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(exchange);
        ArgumentNullException.ThrowIfNull(upstream);
        ArgumentNullException.ThrowIfNull(plan);
        RequestHeadWriter.ValidateTarget(plan.Target);
        // By index: foreach over the IList would box an enumerator per request.
        var added = plan.AddHeaders;
        for (var i = 0; i < added.Count; i++)
        {
            RequestHeadWriter.ValidateField(added[i].Key, added[i].Value);
        }

        return OperationFor(exchange).Restart(exchange, upstream, plan, cancellationToken).RunAsync();
    }

    /// <summary>
    /// The plan for the exchange's request: its connection's own, emptied (issue 9: a plan and its
    /// header list per request were most of what a forward allocated). Fill it, then forward with it.
    /// </summary>
    public static ForwardPlan PlanFor(HttpExchange exchange)
    {
        ArgumentNullException.ThrowIfNull(exchange);
        var plan = OperationFor(exchange).Plan;
        plan.Reset();
        return plan;
    }

    /// <summary>
    /// The connection's operation, kept on its exchange between requests. The HTTP/1.1 loop serves
    /// one request at a time, so the kept one is free; should a handler ever forward twice at once,
    /// the second gets one of its own rather than share.
    /// </summary>
    private static ForwardOperation OperationFor(HttpExchange exchange)
    {
        if (exchange.ConnectionState is ForwardOperation { IsRunning: false } kept)
        {
            return kept;
        }

        var fresh = new ForwardOperation();
        exchange.ConnectionState ??= fresh;
        return fresh;
    }
}
