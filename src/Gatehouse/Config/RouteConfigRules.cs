using System.Text.RegularExpressions;

namespace Gatehouse.Config;

/// <summary>
/// The config checks of issue 5's route fields (match, stripPrefix, access, headers,
/// tunnelIdleTimeout, webSockets, allowEncodedSlashes,
/// allowUnderscoreHeaders, backend), of issue 19's passAuthorization, cookiePath and cookieDomain, and of unrestricted local listeners. Called by
/// <see cref="ConfigValidator"/>; every failure names the JSON path. They read the config and
/// change nothing: the prefix a match implies is <see cref="RoutePrefix.Of"/>, paths are resolved
/// where the runtime model is compiled.
/// </summary>
internal static class RouteConfigRules
{
    /// <summary>A route's regex may not take longer than this per request (ReDoS bound).</summary>
    public static readonly TimeSpan RegexTimeout = TimeSpan.FromMilliseconds(100);

    public static void Validate(RouteConfig route, string field, string folder, Action<string, string> fail)
    {
        var match = route.Match;
        var prefix = route.Prefix;
        if (match?.PathPrefix is { } pathPrefix)
        {
            if (prefix.Length > 0 && prefix != pathPrefix)
            {
                fail(field + ".match.pathPrefix", "differs from prefix (prefix is its short form: give one)");
            }

            prefix = pathPrefix;
        }

        if (match?.PathRegex is { } pattern)
        {
            if (route.Kind != "proxy")
            {
                fail(field + ".match.pathRegex", "only proxy routes match by regex");
            }

            if (prefix.Length > 0)
            {
                fail(field + ".match.pathRegex", "give pathPrefix or pathRegex, not both");
            }

            if (route.StripPrefix == true)
            {
                fail(field + ".stripPrefix", "a regex route forwards the path unchanged");
            }

            try
            {
                _ = new Regex(pattern, RegexOptions.CultureInvariant, RegexTimeout);
            }
            catch (ArgumentException ex)
            {
                fail(field + ".match.pathRegex", "not a valid regular expression: " + ex.Message);
            }
        }

        if (match?.Host is { } host)
        {
            if (host.Length == 0 || host.Any(c => char.IsWhiteSpace(c) || c is '/' or '@' or ',' || c > '~'))
            {
                fail(field + ".match.host", "must be a host name, optionally with :port (\"blog.example\", \"[::1]:8443\")");
            }
        }

        if (route.Kind == "proxy")
        {
            ValidateProxy(route, field, folder, fail);
        }
        else if (route.Access is not null || route.Headers is not null || route.TunnelIdleTimeout is not null || route.WebSockets is not null
            || route.AllowEncodedSlashes is not null || route.AllowUnderscoreHeaders is not null
            || route.PassAuthorization is not null || route.CookiePath is not null || route.CookieDomain is not null)
        {
            // On CouchDB routes the client's Cookie and Authorization never pass (DESIGN.md decision 4).
            fail(field, "access, headers, tunnelIdleTimeout, webSockets, allowEncodedSlashes, allowUnderscoreHeaders, passAuthorization, cookiePath and cookieDomain are for proxy routes");
        }
    }

    /// <summary>
    /// "unrestricted" belongs on a plain loopback listener marked local. The local user is one
    /// person whichever loopback port they use, so every local listener must agree; the compiled
    /// routes then carry the flag (the request only carries the Local principal, not its listener).
    /// </summary>
    public static void ValidateUnrestrictedListeners(GatehouseConfig config, Action<string, string> fail)
    {
        for (var i = 0; i < config.Listen.Count; i++)
        {
            var listen = config.Listen[i];
            if (listen.Unrestricted && (listen.Tls || !listen.Local))
            {
                fail($"$.listen[{i}].unrestricted", "only a plain listener marked local may be unrestricted (\"tls\": false, \"local\": true)");
            }
        }

        var local = config.Listen.Where(l => l.Local && !l.Tls).ToList();
        if (local.Count == 0)
        {
            return;
        }

        var unrestricted = local[0].Unrestricted;
        if (local.Any(l => l.Unrestricted != unrestricted))
        {
            fail("$.listen", "mark every local listener unrestricted, or none (they all serve the same local user)");
        }
    }

    /// <summary>What the local listeners agree on (see <see cref="ValidateUnrestrictedListeners"/>); false without one.</summary>
    public static bool LocalIsUnrestricted(IEnumerable<ListenConfig> listeners) =>
        listeners.FirstOrDefault(l => l.Local && !l.Tls)?.Unrestricted ?? false;

    private static void ValidateProxy(RouteConfig route, string field, string folder, Action<string, string> fail)
    {
        if (Uri.TryCreate(route.Backend, UriKind.Absolute, out var backend))
        {
            var ok = backend.Scheme == "unix"
                ? backend.AbsolutePath.StartsWith('/')
                : backend.Scheme == Uri.UriSchemeHttp && backend.UserInfo.Length == 0 && backend.Query.Length == 0 && backend.Fragment.Length == 0;
            if (!ok)
            {
                fail(field + ".backend", "must be http://HOST:PORT (IPv4, [IPv6] or a name) or unix:/absolute/path.sock, without credentials or query");
            }
        }

        if (route.Access is { } access)
        {
            for (var j = 0; j < (access.Principals?.Count ?? 0); j++)
            {
                if (!PrincipalSelectorSyntax.IsValid(access.Principals![j]))
                {
                    fail($"{field}.access.principals[{j}]", "use \"ca:NAME\", \"pinned:NAME\", \"sha256//…\", \"anonymous\", \"local\" or \"*\"");
                }
            }

            if (access.UsersFile is { } users)
            {
                var path = Path.GetFullPath(Path.Combine(folder, users));
                if (!File.Exists(path))
                {
                    fail(field + ".access.usersFile", $"{path} does not exist (create it with `gatehouse passwd FILE USER`)");
                }
            }
        }

        if (route.Headers is { } headers)
        {
            foreach (var (name, value) in new[] { ("principal", headers.Principal), ("subject", headers.Subject), ("user", headers.User), ("forwardedHost", headers.ForwardedHost) })
            {
                if (value.Length > 0 && !IsToken(value))
                {
                    fail($"{field}.headers.{name}", "must be a header field name (or \"\" to leave it out)");
                }
            }
        }

        if (route.PassAuthorization == true && route.Access?.UsersFile is not null)
        {
            fail(field + ".passAuthorization", "the route logs users in with access.usersFile itself: their Basic password is never forwarded");
        }

        if (route.CookiePath is not (null or "rewrite" or "keep"))
        {
            fail(field + ".cookiePath", "must be \"rewrite\" or \"keep\"");
        }

        if (route.CookieDomain is not (null or "drop" or "keep"))
        {
            fail(field + ".cookieDomain", "must be \"drop\" or \"keep\"");
        }

        if (route.TunnelIdleTimeout is { } idle && !(idle > 0 && idle <= TimeSpan.MaxValue.TotalSeconds / 2))
        {
            fail(field + ".tunnelIdleTimeout", "must be a positive number of seconds");
        }
    }

    /// <summary>RFC 9110 §5.6.2 token: what a field name may be.</summary>
    private static bool IsToken(string name) =>
        name.All(c => char.IsAsciiLetterOrDigit(c) || "!#$%&'*+-.^_`|~".Contains(c));
}
