using System.Text.Json;
using Gatehouse.Config;
using Gatehouse.Front;
using Gatehouse.Model;
using Gatehouse.Policy;
using Microsoft.Extensions.Logging;

namespace Gatehouse.Routing;

/// <summary>
/// One config's routes, rules and route handlers, built whole before a reload puts it in force
/// (issue 7), so a request sees either the old set or the new one, never a mix. A route whose
/// config is unchanged keeps its handler (and the handler's upstream pool and live tunnels)
/// from the generation before.
/// </summary>
internal sealed class RouteGeneration
{
    private readonly Dictionary<string, IRouteHandler> _handlersByConfig = new(StringComparer.Ordinal);

    private RouteGeneration(RouteTable routes, ConfigPolicy rules, IAccessPolicy policy)
    {
        Routes = routes;
        Rules = rules;
        Policy = policy;
    }

    public RouteTable Routes { get; }

    /// <summary>The config's rules: the admin check, peer grants and <c>_all_dbs</c> filtering use them even under an app's policy.</summary>
    public ConfigPolicy Rules { get; }

    /// <summary>What authorizes a routed request: the rules, or the embedding app's replacement.</summary>
    public IAccessPolicy Policy { get; }

    /// <summary>The handler of each route of <see cref="Routes"/> (the gateway's own whoami included).</summary>
    private Dictionary<Route, IRouteHandler> Handlers { get; } = [];

    /// <summary>The handler serving <paramref name="route"/>, one of this generation's routes.</summary>
    public IRouteHandler HandlerFor(Route route) => Handlers[route];

    /// <summary>
    /// Builds the routes, rules and handlers of <paramref name="config"/>, taking over the handler of
    /// every route of <paramref name="previous"/> whose compiled settings are the same. Throws
    /// <see cref="ConfigException"/> (having disposed what it made) when a route cannot be served.
    /// </summary>
    public static RouteGeneration Build(
        CompiledConfig config,
        IAccessPolicy? appPolicy,
        StdinEnvironment? environment,
        IDictionary<string, WebSocketRoute> webSocketRoutes,
        LoginThrottle logins,
        ILoggerFactory loggers,
        Wire.BufferPools buffers,
        Proxy.UpstreamLimits upstream,
        RouteGeneration? previous,
        PeerLinkEntrance? peerLinks = null)
    {
        var routes = new RouteTable(config.Routes);
        var rules = new ConfigPolicy(routes, config.Source.Rules);
        var generation = new RouteGeneration(routes, rules, appPolicy ?? rules);
        var context = new RouteHandlerContext(environment, webSocketRoutes, logins, loggers, buffers, upstream, peerLinks ?? new PeerLinkEntrance());
        try
        {
            foreach (var route in routes.Routes)
            {
                if (route.Config is not { } routeConfig)
                {
                    generation.Handlers[route] = RouteKinds.Create(route, context); // the gateway's own whoami
                    continue;
                }

                // The kind is part of the key: a handler taken over always serves the same kind.
                var key = generation.UniqueKey(KeyOf(route, routeConfig));
                IRouteHandler? reused = null;
                previous?._handlersByConfig.TryGetValue(key, out reused);
                var handler = reused ?? RouteKinds.Create(route, context);
                generation._handlersByConfig[key] = handler;
                generation.Handlers[route] = handler;
            }
        }
        catch
        {
            // A half-built generation never goes into force: close the pools it opened, not the ones it took over.
            foreach (var handler in generation.HandlersNotIn(previous))
            {
                _ = handler.DisposeAsync().AsTask();
            }

            throw;
        }

        return generation;
    }

    /// <summary>The disposable handlers of this generation that <paramref name="next"/> does not take over.</summary>
    public IReadOnlyList<IAsyncDisposable> HandlersNotIn(RouteGeneration? next) =>
        _handlersByConfig.Values
            .Where(handler => next is null || !next._handlersByConfig.ContainsValue(handler))
            .ToList();

    /// <summary>The route as written and what compiling it worked out (the same text in another folder is another route).</summary>
    private static string KeyOf(Route route, RouteConfig config) =>
        string.Join('\n', [JsonSerializer.Serialize(config, ConfigJsonContext.Default.RouteConfig), route.Prefix, .. route.Stores, route.UsersFile ?? string.Empty]);

    /// <summary>Two routes with the same config each get their own handler, matched in order.</summary>
    private string UniqueKey(string json)
    {
        var key = json;
        for (var n = 1; _handlersByConfig.ContainsKey(key); n++)
        {
            key = json + "#" + n.ToString(System.Globalization.CultureInfo.InvariantCulture);
        }

        return key;
    }
}
