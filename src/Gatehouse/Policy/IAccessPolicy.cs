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
}
