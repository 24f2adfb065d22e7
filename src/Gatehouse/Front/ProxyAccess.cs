using Gatehouse.Config;
using Gatehouse.Http1;
using Gatehouse.Policy;
using Gatehouse.Wire;
using Microsoft.Extensions.Logging;

namespace Gatehouse.Front;

/// <summary>The access check's answer for one proxy request.</summary>
internal readonly record struct ProxyAccessResult(bool Allowed, string? User, int Status, string Reason, TimeSpan RetryAfter)
{
    public static ProxyAccessResult Allow(string? user = null) => new(true, user, 0, "allowed", TimeSpan.Zero);
}

/// <summary>
/// Who may use one proxy route (issue 5), any of:
/// 1. the local user (a plain loopback listener marked local) when the route says
///    <c>access.local</c> or the local listeners are <c>unrestricted</c>;
/// 2. a principal the policy allowed (<c>rules[].proxy</c> grants, <c>access.principals</c>);
/// 3. on TLS connections, a Basic login against <c>access.usersFile</c>.
/// Otherwise 401 with a Basic challenge when a login could help, else 403; 429 while a source
/// address waits out its failed-login delay.
/// </summary>
internal sealed class ProxyAccess
{
    public const string Realm = "gatehouse";
    private readonly bool _localAllowed;
    private readonly BasicLogin? _basic;
    private readonly string _routeName;

    /// <param name="usersFile">The route's <c>access.usersFile</c>, full path, or null.</param>
    /// <param name="localUnrestricted">The local listeners are unrestricted (they let the local user use every proxy route).</param>
    public ProxyAccess(RouteConfig config, string? usersFile, bool localUnrestricted, string routeName, LoginThrottle throttle, ILogger logger)
    {
        _routeName = routeName;
        _localAllowed = localUnrestricted || config.Access?.Local == true;
        if (usersFile is { } path)
        {
            _basic = new BasicLogin(new UsersFile(path), throttle, logger);
        }
    }

    public async ValueTask<ProxyAccessResult> CheckAsync(HttpExchange exchange, AccessDecision decision)
    {
        var principal = exchange.Principal;
        if (principal.Source == TrustSource.LocalListener && _localAllowed)
        {
            return ProxyAccessResult.Allow();
        }

        if (decision.Allowed)
        {
            return ProxyAccessResult.Allow();
        }

        // Basic only where the password cannot be read on the way (issue 5: "HTTP Basic over TLS").
        if (_basic is null || !exchange.Connection.IsTls)
        {
            return new(false, null, 403, decision.Reason, TimeSpan.Zero);
        }

        return await CheckLoginAsync(exchange, _basic).ConfigureAwait(false);
    }

    // Its own method: the lambda's captured locals would otherwise cost a closure on every request,
    // including the certificate-allowed ones that never get here.
    private async ValueTask<ProxyAccessResult> CheckLoginAsync(HttpExchange exchange, BasicLogin basic)
    {
        var headers = exchange.Request.Headers;
        var authorization = headers.CountOf(KnownHeaderNames.Authorization) == 1 ? headers[KnownHeaderNames.Authorization] : null;
        // A password not seen lately costs 600,000 PBKDF2 rounds (~0.3 s of CPU): off the thread that
        // delivered the request, which may be a socket event thread serving every other connection.
        var source = exchange.RemoteEndPoint.Address;
        var (outcome, user, wait) = await Task.Run(() => basic.Check(authorization, source, _routeName)).ConfigureAwait(false);
        return outcome switch
        {
            LoginOutcome.Accepted => ProxyAccessResult.Allow(user),
            LoginOutcome.Throttled => new(false, null, 429, "too many failed logins from this address; try again later", wait),
            LoginOutcome.Rejected => new(false, null, 401, "wrong user name or password", wait),
            _ => new(false, null, 401, "a client certificate or a user name and password is needed", TimeSpan.Zero),
        };
    }
}
