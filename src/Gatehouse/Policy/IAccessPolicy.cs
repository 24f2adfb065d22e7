using Gatehouse.Http1;
using Gatehouse.Wire;

namespace Gatehouse.Policy;

/// <summary>
/// Authorization, replaceable by an embedding app (for instance with one that looks rights up
/// in its own database). It sees the principal proven by TLS and the one canonical request
/// that will be served or forwarded, never raw bytes. The config's rules are the default.
/// </summary>
public interface IAccessPolicy
{
    AccessDecision Authorize(Principal principal, Request request);

    /// <summary>
    /// The same question when the router already matched <paramref name="route"/> for the request
    /// (a policy that matches routes itself can skip doing it a second time per request).
    /// </summary>
    AccessDecision Authorize(Principal principal, Request request, Model.Route route) => Authorize(principal, request);

    // What a CouchDB request's body or answer raises after the request itself was allowed: a design
    // document inside _bulk_docs, each end of a replication, the databases _all_dbs may list. A policy
    // that does not answer these refuses them (closed by default).

    /// <summary>True when <paramref name="principal"/> holds <paramref name="access"/> on <paramref name="database"/> of CouchDB.</summary>
    bool HasCouchGrant(Principal principal, string database, Proxy.CouchAccess access) => false;

    /// <summary>True when <paramref name="principal"/> may use the peer link named <paramref name="peer"/>.</summary>
    bool MayUsePeer(Principal principal, string peer) => false;

    /// <summary>True when <c>_all_dbs</c> on <paramref name="route"/> lists <paramref name="database"/> to <paramref name="principal"/>.</summary>
    bool MaySeeDatabase(Principal principal, Model.Route route, string database) => false;
}
