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

    private static readonly KeyValuePair<string, object?> ReloadOk = new("result", "ok");
    private static readonly KeyValuePair<string, object?> ReloadFailed = new("result", "failed");

    internal static readonly ObservableCounter<long> RouteRequests =
        Meter.CreateObservableCounter("gatehouse.route.requests", ObserveRouteRequests, "{request}", "Requests answered, by route (its config name) and status class");

    internal static readonly Counter<long> Reloads =
        Meter.CreateCounter<long>("gatehouse.reloads", "{reload}", "Config reloads (SIGHUP), by result (ok, failed)");

    public static void Reloaded(bool succeeded) => Reloads.Add(1, succeeded ? ReloadOk : ReloadFailed);

    private static List<Measurement<long>> ObserveRouteRequests()
    {
        var measurements = new List<Measurement<long>>();
        foreach (var counts in Model.RouteRequestCounts.All)
        {
            counts.Report(measurements);
        }

        return measurements;
    }
}
