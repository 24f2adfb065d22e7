using Gatehouse.Config;
using Gatehouse.Front;
using Gatehouse.Hosting;
using Microsoft.Extensions.Logging;

namespace Gatehouse.Routing;

/// <summary>What a route handler may need when a generation builds it (issue 7: built whole before a reload swaps it in).</summary>
internal sealed record RouteHandlerContext(
    StdinEnvironment? Environment,
    IDictionary<string, WebSocketRoute> WebSocketRoutes,
    LoginThrottle Logins,
    ILoggerFactory Loggers,
    Wire.BufferPools Buffers,
    Wire.Limits Limits,
    PeerLinkEntrance PeerLinks);

/// <summary>
/// The route kinds in one place (issue 20 item 3): the name a config gives each and the handler
/// that serves it. A new kind is an enum member, a row here, its handler, its policy case and its
/// schema entry.
/// </summary>
internal static class RouteKinds
{
    private static readonly (RouteKind Kind, string Name)[] Configurable =
    [
        (RouteKind.Files, "files"),
        (RouteKind.CouchDb, "couchdb"),
        (RouteKind.Proxy, "proxy"),
        (RouteKind.WebSocket, "websocket"),
    ];

    /// <summary>The values of a route's <c>kind</c> in the config.</summary>
    public static IReadOnlyList<string> ConfigNames { get; } = [.. Configurable.Select(kind => kind.Name)];

    /// <summary>The kind a config names; null for a name no kind has.</summary>
    public static RouteKind? Parse(string name)
    {
        foreach (var (kind, known) in Configurable)
        {
            if (string.Equals(known, name, StringComparison.Ordinal))
            {
                return kind;
            }
        }

        return null;
    }

    /// <summary>The name of <paramref name="kind"/> as the config and the status page spell it.</summary>
    public static string NameOf(RouteKind kind) =>
        kind == RouteKind.WhoAmI ? "whoami" : Configurable.First(entry => entry.Kind == kind).Name;

    /// <summary>A new handler for <paramref name="route"/>; throws <see cref="ConfigException"/> when it cannot be served.</summary>
    public static IRouteHandler Create(Route route, RouteHandlerContext context) => route.Kind switch
    {
        RouteKind.WhoAmI => WhoAmIHandler.Instance,
        RouteKind.Files => FileRouteHandler.Create(route, context.Loggers),
        RouteKind.CouchDb => new CouchRouteHandler(route, context.Environment!.Couchdb!, context.PeerLinks, context.Limits, context.Loggers, context.Buffers),
        RouteKind.Proxy => new ProxyRouteHandler(route, context.Logins, context.Limits, context.Loggers, context.Buffers),
        RouteKind.WebSocket => WebSocketRouteHandler.Create(route, context.WebSocketRoutes, context.Loggers),
        _ => throw new ConfigException($"route {route.Prefix}: no handler for kind {route.Kind}"),
    };
}
