using Gatehouse.Front;
using Gatehouse.Http1;
using Gatehouse.Http1.WebSockets;
using Gatehouse.Model;
using Gatehouse.Policy;
using Gatehouse.Proxy;
using Microsoft.Extensions.Logging;

namespace Gatehouse.Routing;

/// <summary>
/// Fronts a local web app (issue 5):
/// 0. a path segment with an encoded / or \ is a 400 unless the route allows it (issue 17);
/// 1. access: the local user, a principal the policy allowed, or a Basic login (<see cref="ProxyAccess"/>);
///    otherwise 401/403/429, as HTML for browsers;
/// 2. the judged request goes to the backend (TCP or Unix socket) with the mount prefix removed
///    when the route strips it, and the identity headers only the gateway sets;
///    and the client's own Cookie (and Authorization, where the route does no Basic login; issue 19);
/// 3. Location/Content-Location at the backend's origin come back as the public origin, and
///    Set-Cookie Path/Domain are fitted to the mount (<see cref="SetCookieRewriter"/>);
/// 4. on routes with webSockets on, valid WebSocket upgrades are tunnelled (idle-bounded, never cut by request timeouts);
/// 5. a backend that is down is a 502 page without detail.
/// </summary>
internal sealed class ProxyRouteHandler : IRouteHandler
{
    private static readonly TimeSpan DefaultTunnelIdle = TimeSpan.FromMinutes(10);
    private readonly UpstreamPool _upstream;
    private readonly FairUpstreamShares _shares;
    private readonly ProxyAccess _access;
    private readonly IdentityHeaders _identity;
    private readonly LocationRewriter _locations;
    private readonly SetCookieRewriter _cookies;
    private readonly ClientCredentials _passedCredentials;
    private readonly bool _webSockets;
    private readonly bool _allowEncodedSlashes;
    private readonly bool _allowUnderscoreHeaders;
    private readonly TimeSpan _tunnelIdle;
    private readonly ILogger _logger;

    // Made once per route, given the exchange: a lambda per request would allocate its closure.
    private static readonly Func<HttpExchange, int, string, CancellationToken, ValueTask> SendErrorPage =
        static (exchange, status, reason, token) => ErrorPages.SendAsync(exchange.Request, exchange.Response, status, reason, token);

    private readonly Func<HttpExchange, string, string, string> _rewriteResponseField;

    public ProxyRouteHandler(Route route, LoginThrottle logins, Proxy.UpstreamLimits limits, ILoggerFactory loggers, Wire.BufferPools buffers)
    {
        var config = route.Config!;
        var backend = new Uri(config.Backend!);
        var pool = limits.MaxUpstreamConnectionsPerNode;
        _upstream = new UpstreamPool([backend], new UpstreamOptions { Buffers = buffers, MaxConnectionsPerNode = pool }, loggers.CreateLogger("Gatehouse.Upstream"));
        var capacity = Math.Max(2, pool);
        _shares = new FairUpstreamShares(capacity, Math.Clamp(limits.UpstreamConnectionsPerPrincipal, 1, capacity - 1), Math.Clamp(limits.LongLivedUpstreamConnections, 1, capacity));
        _logger = loggers.CreateLogger("Gatehouse.Proxy");
        _access = new ProxyAccess(config, route.UsersFile, route.LocalUnrestricted, route.Name, logins, loggers.CreateLogger("Gatehouse.Login"));
        _identity = new IdentityHeaders(config.Headers);
        var mount = route.StripPrefix ? route.Prefix : string.Empty;
        _locations = new LocationRewriter(backend, mount);
        _cookies = new SetCookieRewriter(backend, mount, rewritePath: config.CookiePath != "keep", dropDomain: config.CookieDomain != "keep");

        // The app's session cookie always passes; its Authorization only where the gateway does not
        // read a Basic login itself (a users file), so a gateway password never reaches the app.
        var passAuthorization = config.PassAuthorization ?? config.Access?.UsersFile is null;
        _passedCredentials = ClientCredentials.Cookie | (passAuthorization ? ClientCredentials.Authorization : ClientCredentials.None);
        _webSockets = config.WebSockets ?? false; // opt-in: a backend that never expected a tunnel gets none
        _allowEncodedSlashes = config.AllowEncodedSlashes ?? false;
        _allowUnderscoreHeaders = config.AllowUnderscoreHeaders ?? false;
        _tunnelIdle = config.TunnelIdleTimeout is { } seconds ? TimeSpan.FromSeconds(seconds) : DefaultTunnelIdle;
        _rewriteResponseField = (exchange, name, value) =>
            LocationRewriter.Applies(name) ? _locations.Rewrite(value, PublicOrigin(exchange))
            : _cookies.IsActive && SetCookieRewriter.Applies(name) ? _cookies.Rewrite(value)
            : value;
    }

    /// <summary>The fields <see cref="_rewriteResponseField"/> may change: every other goes to the client as it came.</summary>
    private static readonly string[] RewrittenFields = [.. LocationRewriter.Names, SetCookieRewriter.Name];

    /// <summary>The origin the client reached us at (only when a Location needs it), or null without a Host.</summary>
    private static string? PublicOrigin(HttpExchange exchange) =>
        exchange.Request.Host.Length > 0 ? (exchange.Connection.IsTls ? "https://" : "http://") + exchange.Request.Host : null;

    /// <summary>Basic logins and the local user come in here although the policy refused them.</summary>
    public bool AnswersRefusals => true;

    /// <summary>Serves the request; returns the refusal reason for the access log, or null when forwarded.</summary>
    // Awaited once per request on the hot path: a pooled box instead of a new one each time.
    [System.Runtime.CompilerServices.AsyncMethodBuilder(typeof(Gatehouse.Wire.Async.PooledValueTaskMethodBuilder<>))]
    public async ValueTask<string?> ServeAsync(HttpExchange exchange, Route route, AccessDecision decision, IAccessPolicy policy, CancellationToken stopping)
    {
        var request = exchange.Request;
        if (!_allowEncodedSlashes && EncodedSlashes.In(request.Target))
        {
            // Refused like the parser's ambiguous targets (dot segments, "//"): 400, and the connection closes.
            exchange.Response.KeepAlive = false;
            await exchange.Response.SendErrorAsync(400, EncodedSlashes.Reason, stopping).ConfigureAwait(false);
            return EncodedSlashes.Reason;
        }

        var access = await _access.CheckAsync(exchange, decision).ConfigureAwait(false);
        if (!access.Allowed)
        {
            await RefuseAsync(exchange, access, stopping).ConfigureAwait(false);
            return access.Reason;
        }

        // One person's many tabs (or one key's flood) cannot take the connections another needs (issue 18).
        var key = ShareKey(exchange.Principal, access.User);
        var tunnel = _webSockets && WebSocketUpgradeRequest.IsValid(request);
        var entering = _shares.EnterAsync(key, tunnel, _upstream.Options.ResponseHeaderTimeout, stopping);
        var waited = !entering.IsCompleted;
        if (await entering.ConfigureAwait(false) is { } busy)
        {
            exchange.Response.Headers.Set("Retry-After", tunnel ? "30" : "1");
            await ErrorPages.SendAsync(request, exchange.Response, 429, busy, stopping).ConfigureAwait(false);
            return busy;
        }

        // A request that queued for its share may have lost its client meanwhile: a POST from a
        // client that left must not reach the app, and the connection goes to the next in line.
        if (waited && ClientPresence.HasLeft(exchange.Connection.Socket))
        {
            _shares.Leave(key, tunnel);
            exchange.Response.KeepAlive = false;
            throw new ForwardAbortedException(ForwardResult.ClientGone, "the client went away while its request waited for a share", null);
        }

        // Forwarded here rather than in a method of its own: each async layer a request passes is
        // one more state machine resumed when the upstream answers (issue 22).
        try
        {
            var plan = Forwarder.PlanFor(exchange);
            plan.TargetFrom(request.Target, route.StrippedSegments);
            plan.AllowUpgrade = _webSockets;
            plan.AllowUnderscoreHeaders = _allowUnderscoreHeaders;
            plan.TunnelIdleTimeout = _tunnelIdle;
            plan.PassCredentials = _passedCredentials;
            plan.RewriteResponseField = _rewriteResponseField;
            plan.RewrittenResponseFields = RewrittenFields;
            plan.SendError = SendErrorPage;
            _identity.Apply(plan, exchange, access.User);

            var result = await Forwarder.ForwardAsync(exchange, _upstream, plan, stopping).ConfigureAwait(false);
            if (result != ForwardResult.Completed)
            {
                _logger.LogInformation("forward {Method} {Path}: {Result}", request.Method, request.Target.Path, result);
            }
        }
        finally
        {
            _shares.Leave(key, tunnel);
        }

        return null;
    }

    /// <summary>Whose share a request uses: the key, else the Basic login's user, else the local user.</summary>
    private static string ShareKey(Wire.Principal principal, string? user) =>
        principal.HasKey ? principal.Pin : user ?? principal.Subject;

    private static async ValueTask RefuseAsync(HttpExchange exchange, ProxyAccessResult access, CancellationToken stopping)
    {
        var response = exchange.Response;
        if (access.Status == 401)
        {
            response.Headers.Set("WWW-Authenticate", $"Basic realm=\"{ProxyAccess.Realm}\"");
        }

        if (access.RetryAfter > TimeSpan.Zero && access.Status == 429)
        {
            response.Headers.Set("Retry-After", ((long)Math.Ceiling(access.RetryAfter.TotalSeconds)).ToString(System.Globalization.CultureInfo.InvariantCulture));
        }

        await ErrorPages.SendAsync(exchange.Request, response, access.Status, access.Reason, stopping).ConfigureAwait(false);
    }

    public ValueTask DisposeAsync()
    {
        _shares.Dispose();
        return _upstream.DisposeAsync();
    }
}
