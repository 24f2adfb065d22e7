using System.Text;
using System.Text.Json;
using Gatehouse.Config;
using Gatehouse.Front;
using Gatehouse.Http1;
using Gatehouse.Model;
using Gatehouse.Policy;
using Gatehouse.Proxy;
using Microsoft.Extensions.Logging;

namespace Gatehouse.Routing;

/// <summary>
/// Serves a CouchDB mount (issue 3) after the policy allowed the request: forwards the judged
/// request with the mount prefix removed and the role's own limited credential injected (the
/// client's credentials were stripped by the forwarder), or answers <c>GET /_all_dbs</c> itself,
/// filtered to the databases the caller's rules name.
/// </summary>
internal sealed class CouchRouteHandler : IRouteHandler
{
    private readonly UpstreamPool _upstream;
    private readonly UpstreamShares _shares;
    private readonly IReadOnlyDictionary<string, KeyValuePair<string, string>[]> _headersByRole;
    private readonly Uri _firstNode;
    private readonly HttpClient _gatewayClient;
    private readonly ILogger _logger;

    /// <summary>Who created what (issue 7); null when recording is off for this route.</summary>
    private readonly Provenance.ProvenanceRecorder? _provenance;

    private readonly CouchReplication _replication;
    private readonly CouchReplicatorDocuments _replicatorDocuments;

    public CouchRouteHandler(Route route, CouchEnvironment environment, PeerLinkEntrance peerLinks, Proxy.UpstreamLimits limits, ILoggerFactory loggers, Wire.BufferPools buffers)
    {
        var nodes = environment.NodeUrls();
        _firstNode = nodes[0];
        var options = new UpstreamOptions { Buffers = buffers, MaxConnectionsPerNode = limits.MaxUpstreamConnectionsPerNode };
        _upstream = new UpstreamPool(nodes, options, loggers.CreateLogger("Gatehouse.Upstream"));
        // Per node, as the pool's size: a cluster of three gives each key three times the share.
        _shares = new UpstreamShares(limits.UpstreamConnectionsPerPrincipal * nodes.Count, limits.LongLivedUpstreamConnections * nodes.Count);
        _headersByRole = environment.Credentials.ToDictionary(
            pair => pair.Key,
            pair => CouchCredentialHeaders.For(environment, pair.Value));
        _logger = loggers.CreateLogger("Gatehouse.CouchDb");
        _gatewayClient = new HttpClient(new SocketsHttpHandler { ConnectTimeout = TimeSpan.FromSeconds(5) }) { Timeout = TimeSpan.FromSeconds(30) };
        _provenance = Provenance.ProvenanceRecorder.Create(route, environment, loggers);
        _replication = new CouchReplication(_firstNode, environment, peerLinks, _logger);
        _replicatorDocuments = new CouchReplicatorDocuments(_firstNode, environment, _replication, _logger);
    }

    // Awaited once per CouchDB request: pooled boxes instead of a new one each time (as on proxy routes).
    [System.Runtime.CompilerServices.AsyncMethodBuilder(typeof(Gatehouse.Wire.Async.PooledValueTaskMethodBuilder<>))]
    public async ValueTask<string?> ServeAsync(HttpExchange exchange, Route route, AccessDecision decision, IAccessPolicy policy, CancellationToken stopping)
    {
        // Judged once: what the policy classified is what is forwarded (an app's policy may not say).
        var classification = decision.Couch ?? CouchPolicy.Classify(exchange.Request, route);
        var role = decision.Role;
        if (classification.Access == CouchAccess.AllDbs)
        {
            await AnswerAllDbsAsync(exchange, route, role, policy, stopping).ConfigureAwait(false);
            return null;
        }

        // No key may take the connections another needs (issue 18), feeds least of all.
        var key = exchange.Principal.Pin;
        var longLived = classification.IsLongLived;
        if (await _shares.EnterAsync(key, longLived, _upstream.Options.ResponseHeaderTimeout, stopping).ConfigureAwait(false) is { } busy)
        {
            exchange.Response.Headers.Set("Retry-After", longLived ? "30" : "1");
            await exchange.Response.SendErrorAsync(429, busy, stopping).ConfigureAwait(false);
            _logger.LogInformation("refused {Method} {Path} of {Pin}: {Reason}", exchange.Request.Method, exchange.Request.Target.Path, key, busy);
            return busy;
        }

        try
        {
            if (classification.Access == CouchAccess.Replicate && CouchReplicatorDocuments.IsDocumentPath(route.TailOf(exchange.Request), out var documentId))
            {
                if (await _replicatorDocuments.HandleAsync(exchange, route, role, policy, documentId, classification.ForwardQuery, stopping).ConfigureAwait(false) is { } created)
                {
                    _provenance?.ObserveReplicatorDocument(exchange, created);
                }

                return null;
            }

            if (classification.Access == CouchAccess.Replicate)
            {
                if (await _replication.HandleAsync(exchange, route, role, policy, stopping).ConfigureAwait(false) is { } replication)
                {
                    _provenance?.ObserveReplication(exchange, replication);
                }

                return null;
            }

            return await ForwardAsync(exchange, route, role, policy, classification, stopping).ConfigureAwait(false);
        }
        finally
        {
            _shares.Leave(key, longLived);
        }
    }

    /// <returns>The refusal reason of a body the design guard refused, before or while forwarding, or null.</returns>
    [System.Runtime.CompilerServices.AsyncMethodBuilder(typeof(Gatehouse.Wire.Async.PooledValueTaskMethodBuilder<>))]
    private async ValueTask<string?> ForwardAsync(HttpExchange exchange, Route route, string? role, IAccessPolicy policy, CouchClassification classification, CancellationToken stopping)
    {
        var plan = Forwarder.PlanFor(exchange);
        plan.TargetFrom(exchange.Request.Target, route.PrefixSegments.Count, classification.ForwardQuery);
        plan.IsFeed = Proxy.Couch.CouchFeeds.IsEndless(classification);
        if (role is not null && _headersByRole.TryGetValue(role, out var credential))
        {
            foreach (var header in credential)
            {
                plan.AddHeaders.Add(header);
            }
        }

        using var guard = GuardFor(exchange, classification, policy, out var refused);
        if (refused is not null)
        {
            _logger.LogInformation("refused {Method} {Path} from {Remote}: {Reason}", exchange.Request.Method, exchange.Request.Target.Path, exchange.RemoteEndPoint, refused.Message);
            await exchange.Response.SendErrorAsync(refused.StatusCode, refused.Message, stopping).ConfigureAwait(false);
            return refused.Message;
        }

        plan.Body = guard;
        ForwardResult result;
        try
        {
            result = await Forwarder.ForwardAsync(exchange, _upstream, plan, stopping).ConfigureAwait(false);
        }
        finally
        {
            // Also when the client left mid-answer: the upstream's status says whether it created something.
            _provenance?.Observe(exchange, route, classification);
        }

        if (result != ForwardResult.Completed)
        {
            _logger.LogInformation("forward {Method} {Path}: {Result}", exchange.Request.Method, exchange.Request.Target.Path, result);
        }

        return guard?.Refusal;
    }

    /// <summary>
    /// Without the design grant, a write whose body may name a design document (issue 17) is judged
    /// as it streams: the wrapper to forward instead of the client's body, or a refusal of its head.
    /// </summary>
    private static DesignGuardBody? GuardFor(HttpExchange exchange, CouchClassification classification, IAccessPolicy policy, out RequestRejectedException? refused)
    {
        refused = null;
        if (classification.Inspect == CouchBodyInspection.None
            || (classification.Database is { } database && policy.HasCouchGrant(exchange.Principal, database, CouchAccess.Design)))
        {
            return null;
        }

        refused = DesignWriteGuard.CheckHead(exchange.Request, classification.Inspect);
        return refused is null && DesignWriteGuard.ReadsBody(exchange.Request, classification.Inspect)
            ? new DesignGuardBody(exchange.Body, classification.Inspect, exchange.Connection.Buffers.Arrays)
            : null;
    }

    private async Task AnswerAllDbsAsync(HttpExchange exchange, Route route, string? role, IAccessPolicy policy, CancellationToken stopping)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, new Uri(_firstNode, "_all_dbs"));
        if (role is not null && _headersByRole.TryGetValue(role, out var credential))
        {
            foreach (var header in credential)
            {
                request.Headers.TryAddWithoutValidation(header.Key, header.Value);
            }
        }

        string[] all;
        try
        {
            using var response = await _gatewayClient.SendAsync(request, stopping).ConfigureAwait(false);
            if (!response.IsSuccessStatusCode)
            {
                await exchange.Response.SendErrorAsync(502, $"CouchDB answered {(int)response.StatusCode} to _all_dbs", stopping).ConfigureAwait(false);
                return;
            }

            all = JsonSerializer.Deserialize(await response.Content.ReadAsStringAsync(stopping).ConfigureAwait(false), CouchJsonContext.Default.StringArray) ?? [];
        }
        catch (Exception ex) when (ex is HttpRequestException or JsonException or TaskCanceledException)
        {
            await exchange.Response.SendErrorAsync(502, "CouchDB did not answer _all_dbs", stopping).ConfigureAwait(false);
            return;
        }

        var visible = all.Where(db => policy.MaySeeDatabase(exchange.Principal, route, db)).ToArray();
        var body = JsonSerializer.SerializeToUtf8Bytes(visible, CouchJsonContext.Default.StringArray);
        await exchange.Response.SendAsync(200, "application/json", body, stopping).ConfigureAwait(false);
    }

    public async ValueTask DisposeAsync()
    {
        if (_provenance is not null)
        {
            await _provenance.DisposeAsync().ConfigureAwait(false);
        }

        _gatewayClient.Dispose();
        _replication.Dispose();
        _replicatorDocuments.Dispose();
        await _upstream.DisposeAsync().ConfigureAwait(false);
    }
}
