using System.Net;
using Gatehouse.Http1;
using Gatehouse.Policy;
using Gatehouse.Proxy;
using Gatehouse.Wire;
using Microsoft.Extensions.Logging;

namespace Gatehouse.Peers;

/// <summary>
/// The peer link (issue 8): <c>/_peers/NAME/PATH</c> on a loopback listener goes to peer NAME's
/// Gatehouse as <c>/PATH</c> over mutual TLS.
/// 1. Only on loopback listeners: elsewhere the path does not exist (404), so a remote caller can
///    never use this device as a relay.
/// 2. The peer must be in the table (404), and the principal (the local user, or a local app by its
///    own key on a TLS loopback listener) needs a <c>peers</c> grant naming it or "*" (403).
/// 3. With discovery on (issue 21), addresses where the peer's pin was heard on the link are dialled
///    before the configured ones; an unknown gateway is never dialled, as it has no name here.
/// 4. The canonical request is forwarded with the two segments removed, on the peer's pooled TLS
///    connections; streaming, back-pressure and 502/504 are the forwarder's, and the peer's own
///    answer (its 403 included) reaches the local app unchanged.
/// </summary>
internal sealed class PeerLinkHandler : IAsyncDisposable
{
    /// <summary>A replaced table's pools close only after requests that already picked them have leased.</summary>
    private static readonly TimeSpan RetireAfter = TimeSpan.FromSeconds(10);

    private readonly ILogger _logger;
    private PeerTable _table;

    public PeerLinkHandler(PeerTable table, ILoggerFactory loggers)
    {
        _table = table;
        _logger = loggers.CreateLogger("Gatehouse.Peer");
    }

    public PeerTable Table => Volatile.Read(ref _table);

    /// <summary>Where discovery heard the gateway with one of these pins (issue 21); null without discovery.</summary>
    public Func<IReadOnlyList<string>, IReadOnlyList<IPEndPoint>>? Heard { get; set; }

    /// <summary>True for <c>/_peers</c> and below: the router hands these here before route matching.</summary>
    public static bool IsPeerPath(Request request) =>
        !request.Target.IsAsterisk
        && request.Target.Segments.Count > 0
        && string.Equals(request.Target.Segments[0], Config.PeerConfigRules.PathSegment, StringComparison.Ordinal);

    /// <summary>Puts a reloaded peer table in force; the old one's connections close a little later.</summary>
    public void Replace(PeerTable table)
    {
        var old = Interlocked.Exchange(ref _table, table);
        if (old != PeerTable.Empty)
        {
            _ = RetireAsync(old);
        }
    }

    /// <summary>Serves the request; returns the refusal reason for the access log, or null when forwarded.</summary>
    /// <param name="rules">The rules in force when the request arrived, whose <c>peers</c> grants apply (issue 7).</param>
    public async Task<string?> HandleAsync(HttpExchange exchange, ConfigPolicy rules, CancellationToken stopping)
    {
        var request = exchange.Request;
        var response = exchange.Response;
        if (!IsLoopback(exchange.Connection.Listener.Address))
        {
            await response.SendErrorAsync(404, "no route for this path", stopping).ConfigureAwait(false);
            return "peer links are served on loopback listeners only";
        }

        if (request.Target.Segments.Count < 2)
        {
            await response.SendErrorAsync(404, "name a peer: /_peers/NAME/…", stopping).ConfigureAwait(false);
            return "no peer named";
        }

        var name = request.Target.Segments[1];
        if (Table.Find(name) is not { } link)
        {
            await response.SendErrorAsync(404, $"no peer named \"{name}\"", stopping).ConfigureAwait(false);
            return "unknown peer";
        }

        if (!Granted(rules, exchange.Principal, name))
        {
            await response.SendErrorAsync(403, "no peer-link grant for this peer", stopping).ConfigureAwait(false);
            return "no peers grant";
        }

        // DESIGN.md decision 2: the target is re-serialized from the canonical request, not copied.
        var plan = Forwarder.PlanFor(exchange);
        plan.TargetFrom(request.Target, 2);
        var pool = Heard is { } heard ? link.PoolFor(heard(link.Pins), _logger) : link.Pool;
        var result = await Forwarder.ForwardAsync(exchange, pool, plan, stopping).ConfigureAwait(false);
        if (result != ForwardResult.Completed)
        {
            _logger.LogInformation("peer link to {Peer}: {Method} {Path}: {Result}", name, request.Method, request.Target.Path, result);
        }

        return null;
    }

    public ValueTask DisposeAsync() => Table.DisposeAsync();

    private static bool Granted(ConfigPolicy rules, Principal principal, string peer) =>
        rules.MayUsePeer(principal, peer);

    private static bool IsLoopback(IPAddress address) =>
        IPAddress.IsLoopback(address) || (address.IsIPv4MappedToIPv6 && IPAddress.IsLoopback(address.MapToIPv4()));

    private static async Task RetireAsync(PeerTable old)
    {
        await Task.Delay(RetireAfter).ConfigureAwait(false);
        await old.DisposeAsync().ConfigureAwait(false);
    }
}
