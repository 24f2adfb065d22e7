using System.Net;
using Gatehouse.Config;
using Gatehouse.Http1;
using Gatehouse.Model;
using Gatehouse.Observability;
using Gatehouse.Policy;
using Gatehouse.Routing;
using Gatehouse.Wire;

namespace Gatehouse.Hosting;

/// <summary>
/// Gatehouse as a library (DESIGN.md decision 7): built from a config and the stdin environment,
/// started in-process, its bound ports read back. The executable is a thin shell over this.
/// </summary>
public sealed partial class GatehouseServer : IAsyncDisposable
{
    private readonly WireServer _wire;
    private readonly GatewayRouter _router;
    private readonly GatehouseServerOptions _options; // the app's policy and websocket handlers, for reloaded routes
    private readonly Front.LoginThrottle _logins; // failed Basic logins, counted across reloads (issue 5)
    private readonly CompiledConfig _model; // as started: the listeners and limits, which only a restart changes

    private GatehouseServer(CompiledConfig model, WireServer wire, ServerIdentity? identity, GatewayLimits limits, GatewayRouter router, GatehouseServerOptions options, Front.LoginThrottle logins)
    {
        _model = model;
        _router = router;
        _options = options;
        _logins = logins;
        _wire = wire;
        Identity = identity;
        Limits = limits;
        router.Status = new Observability.StatusEndpoint.Source(CreateStatus);
    }

    /// <summary>What <c>GET /_gatehouse/status</c> shows (issue 7): listeners, the last reload, open connections per principal.</summary>
    public GatehouseStatus CreateStatus() => new(
        StartedAt,
        CreateReadyLine().Listen,
        ReloadStatus,
        _wire.OpenConnections,
        _wire.OpenConnectionsByPrincipal())
    {
        Pin = Pin,
        Routes = [.. _router.Generation.Rules.WhoMayUse().Select(pair => new RouteStatus(RouteKindNames.NameOf(pair.Route.Kind), pair.Route.Prefix, pair.Route.Name, pair.Grants))],
        Refusals = [.. _router.Refusals.Snapshot().Select(r => new RefusalStatus(r.Time, r.Principal, r.Method, r.Path, r.Status, r.Reason))],
        Discovery = CreateDiscoveryStatus(),
    };

    /// <summary>When this server object was built.</summary>
    public DateTimeOffset StartedAt { get; } = DateTimeOffset.UtcNow;

    /// <summary>The server identity new handshakes present; replaced by <see cref="ReloadAsync"/>.</summary>
    public ServerIdentity? Identity { get; private set; }

    public GatewayLimits Limits { get; }

    /// <summary>The server's own key pin, for clients to pin (<c>curl --pinnedpubkey</c>).</summary>
    public string Pin => Identity?.Pin ?? string.Empty;

    /// <summary>Actual endpoints after <see cref="Start"/>, in config order.</summary>
    public IReadOnlyList<IPEndPoint> BoundEndpoints => _wire.BoundEndpoints;

    /// <summary>Client connections open now, over every listener (a peer's pooled links show here, issue 8).</summary>
    public int OpenConnections => _wire.OpenConnections;

    /// <summary>TLS handshakes in progress now (limits.maxPendingHandshakes, maxPendingHandshakesPerAddress).</summary>
    public int PendingHandshakes => _wire.PendingHandshakes;

    /// <summary>
    /// Builds the server: loads the certificate and key (passphrase from the environment), the
    /// trust anchors and pins, limits, routes and policy. Throws <see cref="ConfigException"/>
    /// for anything the user must fix.
    /// </summary>
    public static GatehouseServer Create(GatehouseConfig config, StdinEnvironment? environment, GatehouseServerOptions? options = null)
    {
        options ??= new GatehouseServerOptions();
        var model = CompiledConfig.Compile(config);
        var limits = model.Limits;
        var identity = LoadIdentity(model, environment);
        var trust = LoadTrust(model);
        RequireCouchEnvironment(config, environment);
        var logins = new Front.LoginThrottle();
        var peerLinks = new PeerLinkEntrance();
        var generation = RouteGeneration.Build(model, options.Policy, environment, options.WebSocketRoutes, logins, options.Loggers, options.Buffers, limits.Upstream, previous: null, peerLinks);
        var peers = new Peers.PeerLinkHandler(Peers.PeerTable.Create(model, environment, identity, options.Loggers, options.Buffers), options.Loggers);
        var router = new GatewayRouter(generation, options.Loggers) { PeerLinks = peers };
        var endpoints = model.Listeners.Select(listener => listener.ToEndpoint()).ToList();
        var handler = Http1Connection.CreateHandler(router, limits.Http1, options.Loggers.CreateLogger("Gatehouse.Http"));
        var wire = new WireServer(endpoints, identity, trust, limits.Wire, handler, options.Loggers.CreateLogger("Gatehouse.Wire"), options.Buffers, model.TlsTuning);
        return new GatehouseServer(model, wire, identity, limits, router, options, logins) { PeerLinks = peerLinks };
    }

    /// <summary>Where a local replicator enters the peer links; bound in <see cref="Start"/>.</summary>
    internal PeerLinkEntrance PeerLinks { get; private init; } = new();

    /// <summary>Binds every listener (synchronously, so ports are known on return) and starts accepting.</summary>
    public void Start()
    {
        _wire.Start();
        PeerLinks.Bind(_model.Listeners, BoundEndpoints);
        StartWatching();
        StartDiscovery();
    }

    /// <summary>Says goodbye on the link, stops accepting, lets in-flight requests finish within the grace period, then aborts the rest.</summary>
    public async Task StopAsync(TimeSpan? grace = null)
    {
        await StopDiscoveryAsync().ConfigureAwait(false);
        await _wire.StopAsync(grace ?? Limits.Wire.ShutdownGrace).ConfigureAwait(false);
    }

    public ReadyLine CreateReadyLine()
    {
        var line = new ReadyLine { Pin = Pin };
        for (var i = 0; i < _model.Listeners.Count && i < BoundEndpoints.Count; i++)
        {
            line.Listen.Add(new ReadyEndpoint
            {
                Address = _model.Listeners[i].Address,
                Port = BoundEndpoints[i].Port,
                Tls = _model.Listeners[i].Tls,
            });
        }

        return line;
    }

    public async ValueTask DisposeAsync()
    {
        await StopReloadingAsync().ConfigureAwait(false);
        await StopDiscoveryAsync().ConfigureAwait(false);
        await _wire.DisposeAsync().ConfigureAwait(false);
        await _router.DisposeAsync().ConfigureAwait(false);
        if (_router.PeerLinks is { } peers)
        {
            await peers.DisposeAsync().ConfigureAwait(false);
        }
    }

    /// <summary>A CouchDB mount needs the URL and every role's credential from the stdin environment.</summary>
    private static void RequireCouchEnvironment(GatehouseConfig config, StdinEnvironment? environment)
    {
        var couchRoute = config.Routes.FindIndex(r => r.Kind == "couchdb");
        if (couchRoute < 0)
        {
            return;
        }

        if (environment?.Couchdb is not { } couch)
        {
            throw new ConfigException($"$.routes[{couchRoute}]: a couchdb route needs the CouchDB URL and credentials on stdin (serve --env-stdin)");
        }

        foreach (var (role, credential) in couch.Credentials)
        {
            // Never let the gateway become a CouchDB admin on a client's behalf (issue 3).
            if (credential.Roles.Any(r => string.Equals(r, "_admin", StringComparison.Ordinal)))
            {
                throw new ConfigException($"stdin: $.couchdb.credentials.{role}.roles: \"_admin\" is never sent upstream");
            }
        }

        for (var i = 0; i < config.Rules.Count; i++)
        {
            if (config.Rules[i].Couchdb is not null && config.Rules[i].Role is { } role && !couch.Credentials.ContainsKey(role))
            {
                throw new ConfigException($"stdin: $.couchdb.credentials: no credential for role \"{role}\" named by $.rules[{i}].role");
            }
        }
    }

    private static ServerIdentity? LoadIdentity(CompiledConfig model, StdinEnvironment? environment)
    {
        if (model.Tls is not { } tls || !model.HasTlsListener)
        {
            return null;
        }

        try
        {
            return ServerIdentity.Load(tls.Certificate, tls.Key, environment?.KeyPassphrase ?? string.Empty);
        }
        catch (CertificateFileException ex)
        {
            throw CertificateConfigErrors.For(model.Source, "$.tls", ex);
        }
    }

    private static ClientTrust LoadTrust(CompiledConfig model)
    {
        var cas = new List<TrustedCa>();
        for (var i = 0; i < model.Cas.Count; i++)
        {
            var ca = model.Cas[i];
            try
            {
                cas.Add(new TrustedCa(ca.Name, PemFiles.LoadCertificate(ca.Certificate)));
            }
            catch (CertificateFileException ex)
            {
                throw CertificateConfigErrors.For(model.Source, $"$.trust.cas[{i}].certificate", ex);
            }
        }

        var trust = model.Source.Trust;
        var pins = trust.Pins.Select(p => new PinnedKey(p.Name, p.Pin));
        return new ClientTrust(cas, pins, trust.Deny);
    }
}
