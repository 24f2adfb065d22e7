using Gatehouse.Config;
using Gatehouse.Http1;
using Gatehouse.Http1.WebSockets;
using Gatehouse.Model;
using Gatehouse.Policy;
using Microsoft.Extensions.Logging;

namespace Gatehouse.Routing;

/// <summary>A websocket route (issue 4): the embedding app's handler of the same name, behind the gateway's own endpoint.</summary>
internal sealed class WebSocketRouteHandler(WebSocketEndpoint endpoint) : IRouteHandler
{
    public static WebSocketRouteHandler Create(Route route, IDictionary<string, WebSocketRoute> webSocketRoutes, ILoggerFactory loggers)
    {
        if (!webSocketRoutes.TryGetValue(route.Name, out var webSocket))
        {
            throw new ConfigException($"websocket route \"{route.Name}\" has no handler: the embedding app registers it in GatehouseServerOptions.WebSocketRoutes");
        }

        return new WebSocketRouteHandler(new WebSocketEndpoint(webSocket.Handler, webSocket.Options, loggers.CreateLogger("Gatehouse.WebSockets")));
    }

    public async ValueTask<string?> ServeAsync(HttpExchange exchange, Route route, AccessDecision decision, IAccessPolicy policy, CancellationToken stopping)
    {
        await endpoint.HandleAsync(exchange, stopping).ConfigureAwait(false);
        return null;
    }

    public ValueTask DisposeAsync() => ValueTask.CompletedTask;
}
