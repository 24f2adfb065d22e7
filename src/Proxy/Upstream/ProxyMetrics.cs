using System.Diagnostics.Metrics;

namespace Gatehouse.Proxy;

/// <summary>
/// Instruments of the upstream pools under the meter "Gatehouse.Proxy" (issue 11): connections per
/// upstream (open, idle, in use), waits for a free slot and how long they took, connects, connect
/// failures, stale-connection retries, and client header fields dropped for an underscore in the name. The <c>upstream</c> tag is the node as configured (a
/// CouchDB node URL, a proxy backend, a peer address), so the number of series stays bounded.
/// </summary>
public static class ProxyMetrics
{
    public const string MeterName = "Gatehouse.Proxy";

    private static readonly Meter Meter = new(MeterName);

    /// <summary>Every pool alive in the process; the gauges sum them per upstream at scrape time.</summary>
    private static readonly List<UpstreamPool> Pools = [];

    internal static readonly Counter<long> Connects =
        Meter.CreateCounter<long>("gatehouse.upstream.connects", "{connection}", "Upstream connections opened (TCP connect, and the TLS handshake of a peer link)");

    internal static readonly Counter<long> ConnectFailures =
        Meter.CreateCounter<long>("gatehouse.upstream.connect.failures", "{connection}", "Upstream connects that failed, by reason (refused, timeout, pin_mismatch, tls)");

    internal static readonly Counter<long> Waits =
        Meter.CreateCounter<long>("gatehouse.upstream.pool.waits", "{request}", "Requests that found every connection slot to the upstream held and had to wait, by result (ok, timeout)");

    internal static readonly Histogram<double> WaitDuration =
        Meter.CreateHistogram<double>("gatehouse.upstream.pool.wait.duration", "s", "Time spent waiting for a connection slot, for the requests that had to wait");

    internal static readonly Counter<long> Retries =
        Meter.CreateCounter<long>("gatehouse.upstream.retries", "{request}", "Idempotent requests sent again on a fresh connection because a pooled one turned out stale");

    internal static readonly Counter<long> UnderscoreHeadersDropped =
        Meter.CreateCounter<long>("gatehouse.request.headers.dropped.underscore", "{field}", "Client header fields not forwarded because their name holds '_' (WSGI/CGI read it as '-'), on every route kind that forwards");

    internal static readonly ObservableGauge<int> PoolConnections =
        Meter.CreateObservableGauge("gatehouse.upstream.pool.connections", () => Observe(PoolCount.Open), "{connection}", "Upstream connections open now (idle plus in use)");

    internal static readonly ObservableGauge<int> PoolIdle =
        Meter.CreateObservableGauge("gatehouse.upstream.pool.idle", () => Observe(PoolCount.Idle), "{connection}", "Keep-alive connections waiting in the pool");

    internal static readonly ObservableGauge<int> PoolInUse =
        Meter.CreateObservableGauge("gatehouse.upstream.pool.in_use", () => Observe(PoolCount.InUse), "{connection}", "Connection slots leased to requests now (connecting or exchanging)");

    internal static readonly ObservableGauge<int> PoolPending =
        Meter.CreateObservableGauge("gatehouse.upstream.pool.pending", () => Observe(PoolCount.Pending), "{request}", "Requests waiting now for a connection slot (every slot to the upstream held)");

    internal static readonly ObservableGauge<int> NodeUp =
        Meter.CreateObservableGauge("gatehouse.upstream.node.up", () => Observe(PoolCount.Up), "{node}", "1 while the node is let in, 0 while it is skipped after a failed connect (passive health; tried again after nodeRetryAfter)");

    internal enum PoolCount
    {
        Open,
        Idle,
        InUse,
        Pending,
        Up,
    }

    internal static readonly KeyValuePair<string, object?> ResultOk = new("result", "ok");
    internal static readonly KeyValuePair<string, object?> ResultTimeout = new("result", "timeout");

    internal static readonly KeyValuePair<string, object?> ReasonRefused = new("reason", "refused");
    internal static readonly KeyValuePair<string, object?> ReasonTimeout = new("reason", "timeout");
    internal static readonly KeyValuePair<string, object?> ReasonPinMismatch = new("reason", "pin_mismatch");
    internal static readonly KeyValuePair<string, object?> ReasonTls = new("reason", "tls");

    /// <summary>Each upstream node of every live pool, for the status page (issue 18): one entry per node, a node any pool skips shows down.</summary>
    public static IReadOnlyList<UpstreamNodeState> NodeStates()
    {
        var states = new SortedDictionary<string, UpstreamNodeState>(StringComparer.Ordinal);
        lock (Pools)
        {
            foreach (var pool in Pools)
            {
                foreach (var node in pool.Nodes)
                {
                    var name = node.Node.ToString();
                    var up = node.Node.IsHealthy;
                    states[name] = states.TryGetValue(name, out var seen)
                        ? seen with { Up = seen.Up && up, InUse = seen.InUse + node.InUseCount, Idle = seen.Idle + node.IdleCount }
                        : new UpstreamNodeState(name, up, node.InUseCount, node.IdleCount);
                }
            }
        }

        return [.. states.Values];
    }

    internal static void Track(UpstreamPool pool)
    {
        lock (Pools)
        {
            Pools.Add(pool);
        }
    }

    internal static void Untrack(UpstreamPool pool)
    {
        lock (Pools)
        {
            Pools.Remove(pool);
        }
    }

    /// <summary>Runs at scrape time only: allocating here is fine. Two pools to the same node (two routes) add up.</summary>
    private static IEnumerable<Measurement<int>> Observe(PoolCount what)
    {
        var totals = new Dictionary<string, int>(StringComparer.Ordinal);
        lock (Pools)
        {
            foreach (var pool in Pools)
            {
                foreach (var node in pool.Nodes)
                {
                    var value = what switch
                    {
                        PoolCount.Idle => node.IdleCount,
                        PoolCount.InUse => node.InUseCount,
                        PoolCount.Pending => node.WaitingCount,
                        PoolCount.Up => node.Node.IsHealthy ? 1 : 0,
                        _ => node.IdleCount + node.InUseCount,
                    };
                    var name = node.Node.ToString();
                    // Up: a node any route has marked down shows down.
                    totals[name] = what == PoolCount.Up
                        ? Math.Min(totals.GetValueOrDefault(name, 1), value)
                        : totals.GetValueOrDefault(name) + value;
                }
            }
        }

        return totals.Select(t => new Measurement<int>(t.Value, new KeyValuePair<string, object?>("upstream", t.Key)));
    }
}
