using Gatehouse.Http1;
using Gatehouse.Proxy;
using Microsoft.Extensions.Logging;

namespace Gatehouse.Routing;

/// <summary>
/// Fronts a local web app (issue 5): the judged request goes to the route's backend with the
/// mount prefix removed, and the backend learns who is calling from headers only the gateway sets.
/// </summary>
internal sealed class ProxyRouteHandler : IAsyncDisposable
{
    private readonly UpstreamPool _upstream;
    private readonly ILogger _logger;

    public ProxyRouteHandler(Uri backend, ILoggerFactory loggers)
    {
        _upstream = new UpstreamPool([backend], new UpstreamOptions(), loggers.CreateLogger("Gatehouse.Upstream"));
        _logger = loggers.CreateLogger("Gatehouse.Proxy");
    }

    public async Task HandleAsync(HttpExchange exchange, Route route, CancellationToken stopping)
    {
        var plan = new ForwardPlan { Target = exchange.Request.Target.ToOriginForm(route.PrefixSegments.Count) };
        if (exchange.Principal.HasKey)
        {
            // Client copies of X-Gatehouse-* were stripped by the forwarder; only ours arrive.
            plan.AddHeaders.Add(new("X-Gatehouse-Principal", exchange.Principal.Pin));
        }

        var result = await Forwarder.ForwardAsync(exchange, _upstream, plan, stopping).ConfigureAwait(false);
        if (result != ForwardResult.Completed)
        {
            _logger.LogInformation("forward {Method} {Path}: {Result}", exchange.Request.Method, exchange.Request.Target.Path, result);
        }
    }

    public ValueTask DisposeAsync() => _upstream.DisposeAsync();
}
