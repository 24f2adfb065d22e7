namespace Gatehouse.Proxy;

/// <summary>
/// The limits of a route's upstream connections: the pool per node and the shares of it (issue 18).
/// Config may override any of them (<c>"limits": { ... }</c>, same names in camelCase).
/// </summary>
public sealed class UpstreamLimits
{
    /// <summary>Connections open at once to one upstream node (a CouchDB node, a proxied app); more requests wait. Default 64.</summary>
    public int MaxUpstreamConnectionsPerNode { get; init; } = 64;

    /// <summary>
    /// Connections to each node of a CouchDB route one key may hold at once (issue 18); past it a short
    /// request waits for one of its own, a feed gets 429. Default 16, a quarter of the default pool.
    /// </summary>
    public int UpstreamConnectionsPerPrincipal { get; init; } = 16;

    /// <summary>
    /// Connections to each node of a CouchDB route that long-lived requests (continuous, longpoll and
    /// eventsource feeds) may hold at once, over all keys; past it 429. Default 32, half the default pool.
    /// </summary>
    public int LongLivedUpstreamConnections { get; init; } = 32;
}
