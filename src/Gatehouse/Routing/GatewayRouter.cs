using Gatehouse.Http1;
using Gatehouse.Model;
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
    /// <summary>
    /// How long the handlers a reload dropped stay open: requests that picked them just before the
    /// swap have leased their upstream connections by then (the same grace as replaced peer tables).
    /// </summary>
    private static readonly TimeSpan RetireAfter = TimeSpan.FromSeconds(10);

    private readonly ILogger _logger;
    private readonly Observability.MetricsEndpoint _metrics = new();
    private readonly CancellationTokenSource _disposing = new();
    private readonly List<Task> _retiring = [];
    private readonly LiveRequests _live;
    private RouteGeneration _generation; // swapped whole by Replace; each request reads it once
    private int _disposed;

    /// <summary>Serves /_peers/NAME/… (issue 8); owned and disposed by the server, not the router.</summary>
    public Peers.PeerLinkHandler? PeerLinks { get; init; }

    public GatewayRouter(RouteGeneration generation, ILoggerFactory loggers)
    {
        _generation = generation;
        _logger = loggers.CreateLogger(AccessLog.Category);
        _live = new LiveRequests(loggers.CreateLogger("Gatehouse.Reload"));
    }

    /// <summary>Supplies <c>/_gatehouse/status</c>; set by the server that owns this router.</summary>
    public Observability.StatusEndpoint.Source? Status { get; set; }

    /// <summary>The routes, rules and handlers new requests get.</summary>
    public RouteGeneration Generation => Volatile.Read(ref _generation);

    /// <summary>The last refusals, for the status page (issue 19 item 5).</summary>
    internal Observability.RecentRefusals Refusals { get; } = new();

    /// <summary>
    /// Puts a reloaded generation in force for new requests (issue 7); requests in flight finish
    /// with the one they started with. Handlers the new generation did not take over close a little later.
    /// </summary>
    public void Replace(RouteGeneration next)
    {
        var old = Interlocked.Exchange(ref _generation, next);
        var dropped = old.HandlersNotIn(next);
        if (dropped.Count > 0)
        {
            lock (_retiring)
            {
                _retiring.RemoveAll(task => task.IsCompleted);
                _retiring.Add(RetireAsync(dropped));
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        // Handlers waiting out their retirement close now, with the current ones.
        await _disposing.CancelAsync().ConfigureAwait(false);
        Task[] retiring;
        lock (_retiring)
        {
            retiring = [.. _retiring];
        }

        await Task.WhenAll(retiring).ConfigureAwait(false);
        foreach (var handler in Generation.HandlersNotIn(null))
        {
            await handler.DisposeAsync().ConfigureAwait(false);
        }

        _disposing.Dispose();
    }

    private async Task RetireAsync(IReadOnlyList<IAsyncDisposable> handlers)
    {
        try
        {
            await Task.Delay(RetireAfter, _disposing.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            // Disposing: close them now.
        }

        foreach (var handler in handlers)
        {
            await handler.DisposeAsync().ConfigureAwait(false);
        }
    }

    // Awaited once per request on the hot path: a pooled box instead of a new one each time.
    [System.Runtime.CompilerServices.AsyncMethodBuilder(typeof(Gatehouse.Wire.Async.PooledValueTaskMethodBuilder))]
    public async ValueTask HandleAsync(HttpExchange exchange, CancellationToken stopping)
    {
        var request = exchange.Request;
        var generation = Generation;
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
            Log(exchange, null, await _metrics.HandleAsync(exchange, generation.Rules, stopping).ConfigureAwait(false));
            return;
        }

        if (Observability.StatusEndpoint.Matches(request))
        {
            Log(exchange, null, await Observability.StatusEndpoint.HandleAsync(exchange, generation.Rules, Status, stopping).ConfigureAwait(false));
            return;
        }

        if (PeerLinks is { } peers && Peers.PeerLinkHandler.IsPeerPath(request))
        {
            // Issue 8: /_peers/ is the gateway's own on every listener (404 off loopback), never a route's.
            Log(exchange, null, await peers.HandleAsync(exchange, generation.Rules, stopping).ConfigureAwait(false));
            return;
        }

        var route = generation.Routes.Match(request);
        if (route is null)
        {
            await exchange.Response.SendErrorAsync(404, "no route for this path", stopping).ConfigureAwait(false);
            Log(exchange, route, "no route");
            return;
        }

        var decision = generation.Policy.Authorize(exchange.Principal, request, route);
        if (decision.Allowed && !_live.TryAdd(exchange, generation, Generation))
        {
            decision = AccessDecision.Deny("the rules were reloaded and refuse it");
        }

        // Served here rather than in a method of its own: each async layer a request passes is one
        // more state machine resumed when the upstream answers (issue 22).
        try
        {
            var handler = generation.HandlerFor(route);
            if (!decision.Allowed && !handler.AnswersRefusals)
            {
                await exchange.Response.SendErrorAsync(decision.StatusCode, decision.Reason, stopping).ConfigureAwait(false);
                Log(exchange, route, decision.Reason);
                return;
            }

            // The policy in force when the request arrived answers what its body raises (a reload may swap it).
            var refusal = await handler.ServeAsync(exchange, route, decision, generation.Policy, stopping).ConfigureAwait(false);
            Log(exchange, route, refusal);
        }
        finally
        {
            if (decision.Allowed)
            {
                _live.Remove(exchange);
            }
        }
    }

    /// <summary>
    /// Judges every request in flight by the rules now in force (issue 17): one whose grant a reload
    /// took away has its connection closed. Returns how many were closed.
    /// </summary>
    public int RejudgeLiveRequests() => _live.Rejudge(Generation);

    private static readonly Model.RouteRequestCounts NoRouteCounts = Model.RouteRequestCounts.For(Observability.GatewayMetrics.NoRoute);
    private static readonly Model.RouteRequestCounts OwnEndpointCounts = Model.RouteRequestCounts.For(Observability.GatewayMetrics.OwnEndpoint);
    private static readonly Model.RouteRequestCounts PeerLinksCounts = Model.RouteRequestCounts.For(Observability.GatewayMetrics.PeerLinks);

    /// <summary>The route tag of a request no configured route answered: the gateway's own paths, or none.</summary>
    private static Model.RouteRequestCounts OwnCounts(Request request) =>
        Observability.MetricsEndpoint.Matches(request) || Observability.StatusEndpoint.Matches(request) ? OwnEndpointCounts
        : Peers.PeerLinkHandler.IsPeerPath(request) ? PeerLinksCounts
        : NoRouteCounts;

    private void Log(HttpExchange exchange, Route? route, string? refusal)
    {
        (route?.RequestCounts ?? OwnCounts(exchange.Request)).Answered(exchange.Response.StatusCode);
        var principal = exchange.Principal;
        if (refusal is not null)
        {
            Refusals.Add(principal.HasKey ? principal.Pin : principal.Source == TrustSource.LocalListener ? "local" : "anonymous", exchange.Request.Method, exchange.Request.Target.Path, exchange.Response.StatusCode, refusal);
        }

        if (!_logger.IsEnabled(LogLevel.Information))
        {
            return;
        }

        var request = exchange.Request;
        var durationMs = Milliseconds(exchange.StartedTimestamp, System.Diagnostics.Stopwatch.GetTimestamp());
        var line = new AccessLine(
            request.Method, request.Target, exchange.Response.StatusCode, principal.Pin, principal.Subject, exchange.RemoteEndPoint,
            route?.Name ?? "-", exchange.Body.BytesRead, exchange.Response.BodyBytesWritten, durationMs,
            refusal is null ? string.Empty : " refused=" + refusal);
        if (exchange.UpstreamStartedTimestamp != 0)
        {
            // Forwarded: the upstream's part, so a slow request can be laid at the backend's door or the gateway's.
            line.Upstream(
                exchange.UpstreamFirstByteTimestamp == 0 ? -1 : Milliseconds(exchange.UpstreamStartedTimestamp, exchange.UpstreamFirstByteTimestamp),
                Milliseconds(exchange.UpstreamStartedTimestamp, exchange.UpstreamEndedTimestamp == 0 ? System.Diagnostics.Stopwatch.GetTimestamp() : exchange.UpstreamEndedTimestamp));
        }

        AccessLog.Write(_logger, line);
    }

    private static double Milliseconds(long from, long to) =>
        Math.Round(System.Diagnostics.Stopwatch.GetElapsedTime(from, to).TotalMilliseconds, 2);
}
