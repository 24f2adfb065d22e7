using System.Diagnostics.Metrics;

namespace Gatehouse.Observability;

/// <summary>
/// Instruments of the gateway itself under the meter "Gatehouse.Gateway" (issue 11): requests by
/// route and status class, and config reloads by result. The route tag is the route's name from
/// the config (never a path), or one of a few fixed names for the gateway's own answers, so the
/// number of series is bounded by the config.
/// </summary>
internal static class GatewayMetrics
{
    public const string MeterName = "Gatehouse.Gateway";

    /// <summary>The route tag of requests no route claimed (404).</summary>
    public const string NoRoute = "(none)";

    /// <summary>The route tag of the gateway's own endpoints (/_gatehouse/metrics, /_gatehouse/status).</summary>
    public const string OwnEndpoint = "(gatehouse)";

    /// <summary>The route tag of peer links (/_peers/NAME/…).</summary>
    public const string PeerLinks = "(peers)";

    private static readonly Meter Meter = new(MeterName);

    private static readonly KeyValuePair<string, object?>[] StatusClasses =
        [new("status_class", "1xx"), new("status_class", "2xx"), new("status_class", "3xx"), new("status_class", "4xx"), new("status_class", "5xx")];

    private static readonly KeyValuePair<string, object?> OtherStatus = new("status_class", "other");
    private static readonly KeyValuePair<string, object?> ReloadOk = new("result", "ok");
    private static readonly KeyValuePair<string, object?> ReloadFailed = new("result", "failed");

    internal static readonly Counter<long> RouteRequests =
        Meter.CreateCounter<long>("gatehouse.route.requests", "{request}", "Requests answered, by route (its config name) and status class");

    internal static readonly Counter<long> Reloads =
        Meter.CreateCounter<long>("gatehouse.reloads", "{reload}", "Config reloads (SIGHUP), by result (ok, failed)");

    /// <summary>Counts one answered request; <paramref name="routeTag"/> is made once per route (no allocation here).</summary>
    public static void Answered(KeyValuePair<string, object?> routeTag, int status)
    {
        var index = (status / 100) - 1;
        RouteRequests.Add(1, routeTag, (uint)index < (uint)StatusClasses.Length ? StatusClasses[index] : OtherStatus);
    }

    public static void Reloaded(bool succeeded) => Reloads.Add(1, succeeded ? ReloadOk : ReloadFailed);

    public static KeyValuePair<string, object?> RouteTag(string name) => Model.Route.MetricsTagOf(name);
}
