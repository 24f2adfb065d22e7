using System.Runtime.CompilerServices;
using Gatehouse.Config;
using Gatehouse.Files;
using Gatehouse.Model;
using Gatehouse.Proxy;
using Gatehouse.Http1;
using Gatehouse.Wire;

namespace Gatehouse.Policy;

/// <summary>
/// The default policy: the config's rules, an allowlist. A request is allowed only when some
/// rule naming the principal grants what the request's route and method need.
/// </summary>
public sealed class ConfigPolicy : IAccessPolicy
{
    private readonly RouteTable _routes;
    private readonly GrantRule[] _rules;
    private readonly ConditionalWeakTable<Principal, GrantRule[]> _rulesByPrincipal = new();
    private readonly ConditionalWeakTable<Principal, GrantRule[]>.CreateValueCallback _matchRules;

    public ConfigPolicy(RouteTable routes, IReadOnlyList<RuleConfig> rules)
    {
        ArgumentNullException.ThrowIfNull(rules);
        _routes = routes;
        _rules = [.. rules.Select(rule => new GrantRule(rule))];
        _matchRules = MatchRules;
    }

    public AccessDecision Authorize(Principal principal, Request request) =>
        _routes.Match(request) is { } route ? Authorize(principal, request, route) : AccessDecision.Deny("no route");

    /// <summary>For the route the router matched (of this policy's table): not matched again.</summary>
    public AccessDecision Authorize(Principal principal, Request request, Route route) =>
        route.Kind switch
        {
            // Anyone the TLS layer let in may ask who they are.
            RouteKind.WhoAmI => AccessDecision.Allow(),
            RouteKind.Files => AuthorizeFiles(principal, request),
            // A websocket route is granted like a proxy route: by name in rules[].proxy or its own access list.
            RouteKind.Proxy or RouteKind.WebSocket => AuthorizeProxy(principal, route),
            RouteKind.CouchDb => CouchPolicy.Authorize(request, route, Matched(principal)),
            _ => AccessDecision.Deny("unknown route"),
        };

    public bool HasCouchGrant(Principal principal, string database, CouchAccess access) =>
        CouchPolicy.HasGrant(Matched(principal), database, access);

    public bool MayUsePeer(Principal principal, string peer)
    {
        foreach (var rule in Matched(principal))
        {
            if (rule.MayUsePeer(peer))
            {
                return true;
            }
        }

        return false;
    }

    public bool MaySeeDatabase(Principal principal, Route route, string database) =>
        CouchPolicy.CanSee(Matched(principal), route, database);

    /// <summary>
    /// The gateway's own views (metrics, status) are for the device's local user and for
    /// principals a rule marks <c>"admin": true</c>.
    /// </summary>
    public bool IsAdmin(Principal principal) =>
        principal.Source == TrustSource.LocalListener || Matched(principal).Any(rule => rule.Admin);

    /// <summary>
    /// True when a rule or a route's access list gives <paramref name="principal"/> anything at all
    /// (a database, files, a proxy or websocket route, a peer link, admin). A reload closes the open
    /// connections of a principal that had a grant and has none left (issue 7).
    /// </summary>
    public bool GrantsAnything(Principal principal) =>
        Matched(principal).Any(rule => rule.Admin || rule.Files != FileRights.None || rule.HasProxy || rule.HasPeers || rule.HasCouch)
        || _routes.Routes.Any(route => route.Config?.Access?.Principals?.Any(selector => PrincipalSelector.Matches(selector, principal)) == true);

    /// <summary>
    /// Who may use each route, as a person reads it on the status page (issue 19 item 5): the
    /// selectors of the rules that grant something on it, with what, and the route's own access list.
    /// </summary>
    public IEnumerable<(Route Route, IReadOnlyList<string> Grants)> WhoMayUse()
    {
        foreach (var route in _routes.Routes)
        {
            if (route.Kind == RouteKind.WhoAmI)
            {
                continue;
            }

            var grants = new List<string>();
            foreach (var rule in _rules)
            {
                // As the config wrote it: what a person reads.
                var what = route.Kind switch
                {
                    RouteKind.Files when rule.Config.Files is { Count: > 0 } files => "files " + string.Join('/', files),
                    RouteKind.CouchDb when rule.HasCouch && rule.Config.Couchdb is { } couch =>
                        string.Join('/', couch.Allow) + " on " + string.Join(", ", couch.Databases),
                    RouteKind.Proxy or RouteKind.WebSocket when rule.NamesRoute(route.Name, route.Prefix) => "use",
                    _ => null,
                };
                if (what is not null)
                {
                    grants.Add(string.Join(", ", rule.Principals) + ": " + what);
                }
            }

            if (route.Config?.Access?.Principals is { Count: > 0 } selectors)
            {
                grants.Add(string.Join(", ", selectors) + ": use (the route's access list)");
            }

            yield return (route, grants);
        }
    }

    /// <summary>The rules whose selectors name <paramref name="principal"/>.</summary>
    /// <remarks>
    /// Worked out once per principal object and kept as long as that object lives: a keep-alive
    /// connection's requests then skip the selector matching. ClientTrust hands every handshake from
    /// one key the same object, so the table holds an entry per identity, not per connection. A reload
    /// builds a new policy, so the cache never outlives the rules it was made from.
    /// </remarks>
    public IReadOnlyList<GrantRule> RulesFor(Principal principal) => Matched(principal);

    /// <summary>The cached array itself: foreach over it allocates nothing (over the interface it would box an enumerator).</summary>
    private GrantRule[] Matched(Principal principal) => _rulesByPrincipal.GetValue(principal, _matchRules);

    private GrantRule[] MatchRules(Principal principal) =>
        [.. _rules.Where(rule => rule.Principals.Any(selector => PrincipalSelector.Matches(selector, principal)))];

    private AccessDecision AuthorizeFiles(Principal principal, Request request)
    {
        // A method files do not answer needs write, as a PUT would: the endpoint then answers 405.
        var right = FileMethodRights.For(request.Method) is var method and not FileRights.None ? method : FileRights.Write;
        foreach (var rule in Matched(principal))
        {
            if ((rule.Files & right) != 0)
            {
                return right == FileRights.Write
                    ? AccessDecision.Allow(rule.Role) with { MaxUploadBytes = MaxUploadBytesFor(principal) }
                    : AccessDecision.Allow(rule.Role);
            }
        }

        return AccessDecision.Deny($"no files {right.ToString().ToLowerInvariant()} grant for this key");
    }

    /// <summary>
    /// The most generous upload limit among the rules that grant <paramref name="principal"/> write:
    /// grants add up, so a rule without a limit lifts it (null).
    /// </summary>
    private long? MaxUploadBytesFor(Principal principal)
    {
        long largest = 0;
        foreach (var rule in Matched(principal))
        {
            if ((rule.Files & FileRights.Write) != 0)
            {
                if (rule.MaxUploadBytes is not { } limit)
                {
                    return null;
                }

                largest = Math.Max(largest, limit);
            }
        }

        return largest;
    }

    // Loops, not LINQ: asked on every proxied request, and lambdas capturing the principal or the
    // route would allocate their closures each time (issue 9).
    private AccessDecision AuthorizeProxy(Principal principal, Route route)
    {
        // The route's own list (issue 5) lets principals in without a rule; rules[].proxy still does too.
        if (route.Config?.Access?.Principals is { } selectors)
        {
            foreach (var selector in selectors)
            {
                if (PrincipalSelector.Matches(selector, principal))
                {
                    return AccessDecision.Allow();
                }
            }
        }

        foreach (var rule in Matched(principal))
        {
            if (rule.NamesRoute(route.Name, route.Prefix))
            {
                return AccessDecision.Allow(rule.Role);
            }
        }

        return AccessDecision.Deny("no grant for this route");
    }
}
