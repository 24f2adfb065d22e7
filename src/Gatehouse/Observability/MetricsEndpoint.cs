using System.Text;
using Gatehouse.Http1;
using Gatehouse.Policy;
using Gatehouse.Wire;

namespace Gatehouse.Observability;

/// <summary>
/// <c>GET /_gatehouse/metrics</c>: Prometheus text for the local user (a plain loopback listener
/// marked local) and for principals a rule marks <c>"admin": true</c>. Everyone else gets 403:
/// traffic counts and refusal reasons tell an outsider too much about the device.
/// </summary>
internal sealed class MetricsEndpoint
{
    public const string Path = "/_gatehouse/metrics";

    private readonly MetricsAggregator _aggregator;

    public MetricsEndpoint(MetricsAggregator? aggregator = null)
    {
        _aggregator = aggregator ?? MetricsAggregator.Shared;
    }

    public static bool Matches(Request request) => !request.Target.IsAsterisk && request.Target.PathEquals(Path);

    /// <summary>Answers the scrape; returns the refusal reason for the access log, or null when served.</summary>
    /// <param name="rules">The rules in force, which say who is an admin (reloadable, issue 7).</param>
    public async Task<string?> HandleAsync(HttpExchange exchange, ConfigPolicy rules, CancellationToken stopping)
    {
        if (!rules.IsAdmin(exchange.Principal))
        {
            const string reason = "metrics are for the local user and admin principals";
            await exchange.Response.SendErrorAsync(403, reason, stopping).ConfigureAwait(false);
            return reason;
        }

        if (exchange.Request.Method is not (HttpMethods.Get or HttpMethods.Head))
        {
            exchange.Response.Headers.Set("Allow", "GET, HEAD");
            await exchange.Response.SendErrorAsync(405, "use GET", stopping).ConfigureAwait(false);
            return "use GET";
        }

        var body = Encoding.UTF8.GetBytes(PrometheusText.Render(_aggregator.Snapshot()));
        exchange.Response.Headers.Set("Cache-Control", "no-store");
        await exchange.Response.SendAsync(200, PrometheusText.ContentType, body, stopping).ConfigureAwait(false);
        return null;
    }
}
