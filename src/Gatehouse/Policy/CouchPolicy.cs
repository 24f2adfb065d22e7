using Gatehouse.Config;
using Gatehouse.Http1;
using Gatehouse.Routing;
using Gatehouse.Wire;

namespace Gatehouse.Policy;

/// <summary>CouchDB access: the endpoint's class (one table in Gatehouse.Proxy) against the rules' grants per database pattern.</summary>
internal static class CouchPolicy
{
    public static AccessDecision Authorize(Principal principal, Request request, Route route, IEnumerable<RuleConfig> rules)
    {
        _ = principal;
        _ = request;
        _ = route;
        _ = rules;
        return AccessDecision.Deny("couchdb access is not available yet");
    }
}
