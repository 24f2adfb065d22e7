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
    AccessDecision Authorize(Principal principal, Request request, Routing.Route route) => Authorize(principal, request);
}
