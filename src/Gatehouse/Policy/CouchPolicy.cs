using Gatehouse.Config;
using Gatehouse.Http1;
using Gatehouse.Model;
using Gatehouse.Proxy;

namespace Gatehouse.Policy;

/// <summary>
/// CouchDB access (issue 3): the endpoint's class, from the one table in
/// <see cref="CouchEndpoints"/>, against the grants of the principal's rules on database-name
/// patterns. Closed endpoints stay closed whatever a rule says.
/// </summary>
internal static class CouchPolicy
{
    public static AccessDecision Authorize(Request request, Route route, GrantRule[] rules)
    {
        var classification = Classify(request, route);
        if (classification.IsDenied)
        {
            return AccessDecision.Deny(classification.Reason) with { StatusCode = classification.IsBadRequest ? 400 : classification.IsNotFound ? 404 : 403, Couch = classification };
        }

        // The gateway's own record of who created what (issue 7): no rule, not even "*", opens it.
        if (classification.Database is { } own && IsProvenanceDatabase(route, own))
        {
            return AccessDecision.Deny("the provenance database is the gateway's own") with { Couch = classification };
        }

        foreach (var rule in rules)
        {
            if (rule.Config.Couchdb is null)
            {
                continue;
            }

            // The server's welcome and the (filtered) database list are for anyone with some CouchDB rule.
            if (classification.Access is CouchAccess.ServerInfo or CouchAccess.AllDbs)
            {
                return AccessDecision.Allow(rule.Role) with { Couch = classification };
            }

            // Only the door: which databases and peers a replication may touch is judged on its
            // body (CouchReplication), against every rule of the key.
            if (classification.Access == CouchAccess.Replicate && rule.Grants(CouchAccess.Replicate))
            {
                return AccessDecision.Allow(rule.Role) with { Couch = classification };
            }

            if (classification.Database is { } database && rule.Grants(classification) && rule.NamesDatabase(database))
            {
                return AccessDecision.Allow(rule.Role) with { Couch = classification };
            }
        }

        return AccessDecision.Deny($"no {classification.Access.ToString().ToLowerInvariant()} grant on {classification.Database ?? "the server"} for this key") with { Couch = classification };
    }

    public static CouchClassification Classify(Request request, Route route) =>
        CouchEndpoints.Classify(request.Method, route.TailOf(request), request.Target.Query);

    /// <summary>The database where <paramref name="route"/> records provenance, closed to every remote principal.</summary>
    public static bool IsProvenanceDatabase(Route route, string database) =>
        string.Equals(database, route.Config?.Provenance?.Database ?? ProvenanceConfig.DefaultDatabase, StringComparison.Ordinal);

    /// <summary>True when some rule of <paramref name="rules"/> grants anything on <paramref name="database"/> (for the filtered _all_dbs).</summary>
    public static bool CanSee(GrantRule[] rules, Route route, string database)
    {
        if (IsProvenanceDatabase(route, database))
        {
            return false;
        }

        foreach (var rule in rules)
        {
            if (rule.HasCouch && rule.NamesDatabase(database))
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>True when some rule of <paramref name="rules"/> grants <paramref name="access"/> on <paramref name="database"/>.</summary>
    public static bool HasGrant(GrantRule[] rules, string database, CouchAccess access)
    {
        foreach (var rule in rules)
        {
            if (rule.Grants(access) && rule.NamesDatabase(database))
            {
                return true;
            }
        }

        return false;
    }
}
