using Gatehouse.Policy;
using Gatehouse.Routing;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Gatehouse.Hosting;

/// <summary>What an embedding app (or a test) may supply instead of the defaults.</summary>
public sealed class GatehouseServerOptions
{
    public ILoggerFactory Loggers { get; set; } = NullLoggerFactory.Instance;

    /// <summary>Handlers of the config's <c>websocket</c> routes, by route name.</summary>
    public IDictionary<string, WebSocketRoute> WebSocketRoutes { get; } = new Dictionary<string, WebSocketRoute>(StringComparer.Ordinal);

    /// <summary>
    /// Pools for every connection's buffers, client and upstream side. Default the shared pools;
    /// tests give counting pools to prove each rented block came back (issue 10).
    /// </summary>
    public Wire.BufferPools Buffers { get; set; } = Wire.BufferPools.Shared;

    /// <summary>Replaces the config's rules as the authorization policy.</summary>
    public IAccessPolicy? Policy { get; set; }
}
