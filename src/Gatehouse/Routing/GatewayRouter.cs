using System.Text.Json;
using Gatehouse.Config;
using Gatehouse.Files;
using Gatehouse.Front;
using Gatehouse.Hosting;
using Gatehouse.Http1;
using Gatehouse.Http1.WebSockets;
using Gatehouse.Policy;
using Gatehouse.Wire;
using Microsoft.Extensions.Logging;

namespace Gatehouse.Routing;

/// <summary>
/// The request's path through the house (DESIGN.md): route chosen from the canonical request,
/// policy asked with (principal, request), then the route's handler serves or forwards it.
/// </summary>
internal sealed class GatewayRouter : IRequestHandler, IAsyncDisposable
{
    private readonly RouteTable _routes;
    private readonly IAccessPolicy _policy;
    private readonly Dictionary<Route, FileEndpoint> _files = [];
    private readonly Dictionary<Route, CouchRouteHandler> _couch = [];
    private readonly Dictionary<Route, ProxyRouteHandler> _proxies = [];
    private readonly Dictionary<Route, WebSocketEndpoint> _webSockets = [];
    private readonly ILogger _logger;
    private readonly Observability.MetricsEndpoint _metrics;
    private readonly Observability.StatusEndpoint _status;

    /// <summary>Failed Basic logins per source address, across every proxy route (issue 5).</summary>
    private readonly LoginThrottle _logins = new();

    /// <summary>Serves /_peers/NAME/… (issue 8); owned and disposed by the server, not the router.</summary>
    public Peers.PeerLinkHandler? PeerLinks { get; init; }

    public GatewayRouter(RouteTable routes, IAccessPolicy policy, ConfigPolicy rules, StdinEnvironment? environment, IDictionary<string, WebSocketRoute> webSocketRoutes, ILoggerFactory loggers, BufferPools buffers)
    {
        _routes = routes;
        _policy = policy;
        _logger = loggers.CreateLogger("Gatehouse.Access");
        _metrics = new Observability.MetricsEndpoint(rules);
        _status = new Observability.StatusEndpoint(rules);
        foreach (var route in routes.Routes)
        {
            switch (route.Kind)
            {
                case RouteKind.Files:
                    var store = new FileStore(new FileStoreOptions { StoreRoots = route.Config!.Stores! });
                    _files[route] = new FileEndpoint(store, loggers.CreateLogger("Gatehouse.Files"));
                    break;
                case RouteKind.CouchDb:
                    _couch[route] = new CouchRouteHandler(environment!.Couchdb!, rules, loggers, buffers);
                    break;
                case RouteKind.WebSocket:
                    if (!webSocketRoutes.TryGetValue(route.Name, out var webSocket))
                    {
                        throw new ConfigException($"websocket route \"{route.Name}\" has no handler: the embedding app registers it in GatehouseServerOptions.WebSocketRoutes");
                    }

                    _webSockets[route] = new WebSocketEndpoint(webSocket.Handler, webSocket.Options, loggers.CreateLogger("Gatehouse.WebSockets"));
                    break;
                case RouteKind.Proxy:
                    _proxies[route] = new ProxyRouteHandler(route, _logins, loggers, buffers);
                    break;
            }
        }
    }

    /// <summary>Supplies <c>/_gatehouse/status</c>; set by the server that owns this router.</summary>
    public Observability.StatusEndpoint.Source? Status { get; set; }

    public async ValueTask DisposeAsync()
    {
        foreach (var handler in _couch.Values)
        {
            await handler.DisposeAsync().ConfigureAwait(false);
        }

        foreach (var handler in _proxies.Values)
        {
            await handler.DisposeAsync().ConfigureAwait(false);
        }
    }

    public async Task HandleAsync(HttpExchange exchange, CancellationToken stopping)
    {
        var request = exchange.Request;
        if (request.Target.IsAsterisk)
        {
            // RFC 9110 §9.3.7: "OPTIONS *" asks about the server itself; answered here, never forwarded.
            exchange.Response.Headers.Set("Allow", "GET, HEAD, POST, PUT, DELETE, OPTIONS");
            await exchange.Response.SendAsync(200, "application/json", "{}"u8.ToArray(), stopping).ConfigureAwait(false);
            return;
        }

        if (Observability.MetricsEndpoint.Matches(request))
        {
            // The gateway's own (issue 11); /_gatehouse/ is reserved, so no route can claim it.
            Log(exchange, null, await _metrics.HandleAsync(exchange, stopping).ConfigureAwait(false));
            return;
        }

        if (Observability.StatusEndpoint.Matches(request))
        {
            Log(exchange, null, await _status.HandleAsync(exchange, Status, stopping).ConfigureAwait(false));
            return;
        }

        if (PeerLinks is { } peers && Peers.PeerLinkHandler.IsPeerPath(request))
        {
            // Issue 8: /_peers/ is the gateway's own on every listener (404 off loopback), never a route's.
            Log(exchange, null, await peers.HandleAsync(exchange, stopping).ConfigureAwait(false));
            return;
        }

        var route = _routes.Match(request);
        if (route is null)
        {
            await exchange.Response.SendErrorAsync(404, "no route for this path", stopping).ConfigureAwait(false);
            Log(exchange, route, "no route");
            return;
        }

        var decision = _policy.Authorize(exchange.Principal, request);
        if (route.Kind == RouteKind.Proxy)
        {
            // Proxy routes also let in Basic logins and the unrestricted local user, and answer
            // 401 (with the Basic challenge), 403 or 429 themselves (issue 5).
            var refusal = await _proxies[route].HandleAsync(exchange, route, decision, stopping).ConfigureAwait(false);
            Log(exchange, route, refusal);
            return;
        }

        if (!decision.Allowed)
        {
            await exchange.Response.SendErrorAsync(403, decision.Reason, stopping).ConfigureAwait(false);
            Log(exchange, route, decision.Reason);
            return;
        }

        switch (route.Kind)
        {
            case RouteKind.WhoAmI:
                await WhoAmIAsync(exchange, stopping).ConfigureAwait(false);
                break;
            case RouteKind.Files:
                // The policy already checked the grant this method needs; pass on exactly that right.
                var rights = request.Method switch
                {
                    HttpMethods.Get or HttpMethods.Head => FileRights.Read,
                    HttpMethods.Delete => FileRights.Delete,
                    _ => FileRights.Write,
                };
                // Not the stopping token: a transfer in flight at shutdown finishes within the grace
                // period (issue 10); past it, the Wire layer aborts the connection and the upload's temp file goes.
                await _files[route].HandleAsync(exchange, Tail(request, route), rights, CancellationToken.None).ConfigureAwait(false);
                break;
            case RouteKind.CouchDb:
                await _couch[route].HandleAsync(exchange, route, decision.Role, stopping).ConfigureAwait(false);
                break;
            case RouteKind.WebSocket:
                await _webSockets[route].HandleAsync(exchange, stopping).ConfigureAwait(false);
                break;
        }

        Log(exchange, route, null);
    }

    private static IReadOnlyList<string> Tail(Request request, Route route) =>
        request.Target.Segments.Skip(route.PrefixSegments.Count).ToArray();

    private static async Task WhoAmIAsync(HttpExchange exchange, CancellationToken stopping)
    {
        if (exchange.Request.Method is not (HttpMethods.Get or HttpMethods.Head))
        {
            exchange.Response.Headers.Set("Allow", "GET, HEAD");
            await exchange.Response.SendErrorAsync(405, "use GET", stopping).ConfigureAwait(false);
            return;
        }

        var principal = exchange.Principal;
        var body = new WhoAmI
        {
            Pin = principal.Pin,
            Subject = principal.Subject,
            Trust = principal.Source switch
            {
                TrustSource.CertificateAuthority => "ca",
                TrustSource.PinnedKey => "pin",
                TrustSource.LocalListener => "local",
                _ => "none",
            },
            TrustName = principal.TrustName,
            RemoteAddress = exchange.RemoteEndPoint.Address.ToString(),
        };
        var json = JsonSerializer.SerializeToUtf8Bytes(body, ConfigJsonContext.Output.WhoAmI);
        exchange.Response.Headers.Set("Cache-Control", "no-store");
        await exchange.Response.SendAsync(200, "application/json", json, stopping).ConfigureAwait(false);
    }

    private void Log(HttpExchange exchange, Route? route, string? refusal)
    {
        if (!_logger.IsEnabled(LogLevel.Information))
        {
            return;
        }

        // Access log: the canonical path only, never the query (it may carry secrets).
        _logger.LogInformation(
            "{Method} {Path} {Status} principal={Pin} subject={Subject} remote={Remote} route={Route} in={BytesIn} out={BytesOut} ms={DurationMs}{Refusal}",
            exchange.Request.Method,
            exchange.Request.Target.Path,
            exchange.Response.StatusCode,
            exchange.Principal.Pin,
            exchange.Principal.Subject,
            exchange.RemoteEndPoint,
            route?.Name ?? "-",
            exchange.Body.BytesRead,
            exchange.Response.BodyBytesWritten,
            Math.Round(System.Diagnostics.Stopwatch.GetElapsedTime(exchange.StartedTimestamp).TotalMilliseconds, 2),
            refusal is null ? string.Empty : " refused=" + refusal);
    }
}
