using Gatehouse.Config;
using Gatehouse.Front;
using Gatehouse.Model;
using Microsoft.Extensions.Logging;

namespace Gatehouse.Routing;

/// <summary>What a route handler may need when a generation builds it (issue 7: built whole before a reload swaps it in).</summary>
internal sealed record RouteHandlerContext(
    StdinEnvironment? Environment,
    IDictionary<string, WebSocketRoute> WebSocketRoutes,
    LoginThrottle Logins,
    ILoggerFactory Loggers,
    Wire.BufferPools Buffers,
    Proxy.UpstreamLimits Upstream,
    PeerLinkEntrance PeerLinks);

/// <summary>
/// The handler of each route kind in one place (issue 20 item 3). A new kind is a
/// <see cref="RouteKind"/> member, its name in <see cref="RouteKindNames"/>, a row here, its
/// handler, its policy case and its schema entry.
/// </summary>
internal static class RouteKinds
{
    /// <summary>A new handler for <paramref name="route"/>; throws <see cref="ConfigException"/> when it cannot be served.</summary>
    public static IRouteHandler Create(Route route, RouteHandlerContext context) => route.Kind switch
    {
        RouteKind.WhoAmI => WhoAmIHandler.Instance,
        RouteKind.Files => FileRouteHandler.Create(route, context.Loggers),
        RouteKind.CouchDb => new CouchRouteHandler(route, context.Environment!.Couchdb!, context.PeerLinks, context.Upstream, context.Loggers, context.Buffers),
        RouteKind.Proxy => new ProxyRouteHandler(route, context.Logins, context.Upstream, context.Loggers, context.Buffers),
        RouteKind.WebSocket => WebSocketRouteHandler.Create(route, context.WebSocketRoutes, context.Loggers),
        _ => throw new ConfigException($"route {route.Prefix}: no handler for kind {route.Kind}"),
    };
}
