using System.Collections.Concurrent;

namespace Gatehouse.Model;

/// <summary>
/// One route's answered requests by status class, counted in place and reported only when the
/// metrics are read (Observability.GatewayMetrics' observable counter). A counter's Add per request
/// went through the meter's listener, a dictionary and a locked series lookup: about 0.4% of the
/// gateway's profile samples on a proxied GET (issue 22); an increment here is one interlocked add.
/// One per route name for the process's life, so a reload that keeps a route keeps its count rising.
/// </summary>
internal sealed class RouteRequestCounts
{
    private static readonly KeyValuePair<string, object?>[] StatusTags =
        [new("status_class", "1xx"), new("status_class", "2xx"), new("status_class", "3xx"), new("status_class", "4xx"), new("status_class", "5xx"), new("status_class", "other")];

    private static readonly ConcurrentDictionary<string, RouteRequestCounts> ByName = new(StringComparer.Ordinal);

    private readonly long[] _byClass = new long[StatusTags.Length];
    private readonly KeyValuePair<string, object?> _routeTag;

    private RouteRequestCounts(string route) => _routeTag = new("route", route);

    /// <summary>Every route name's counts made so far in this process.</summary>
    public static ICollection<RouteRequestCounts> All => ByName.Values;

    /// <summary>The counts of the route (or the gateway's own endpoints) called <paramref name="name"/>: made once per name.</summary>
    public static RouteRequestCounts For(string name) => ByName.GetOrAdd(name, static route => new RouteRequestCounts(route));

    public void Answered(int status)
    {
        var index = (status / 100) - 1;
        Interlocked.Increment(ref _byClass[(uint)index < (uint)(StatusTags.Length - 1) ? index : StatusTags.Length - 1]);
    }

    /// <summary>Adds this route's series (only the status classes seen) to <paramref name="into"/>.</summary>
    public void Report(List<System.Diagnostics.Metrics.Measurement<long>> into)
    {
        for (var i = 0; i < _byClass.Length; i++)
        {
            var count = Volatile.Read(ref _byClass[i]);
            if (count > 0)
            {
                into.Add(new(count, _routeTag, StatusTags[i]));
            }
        }
    }
}
