using Gatehouse.Http1;
using Gatehouse.Model;
using Gatehouse.Policy;

namespace Gatehouse.Routing;

/// <summary>
/// A route kind's work once the router has matched the route and the policy has judged the request
/// (DESIGN.md, the request's path). One per route; a reload keeps the handler of an unchanged route.
/// </summary>
internal interface IRouteHandler : IAsyncDisposable
{
    /// <summary>
    /// True when refused requests come here too: a proxy route lets in Basic logins and the local
    /// user that the policy does not know, and answers its refusals as HTML pages. Otherwise the
    /// router answers a refusal and never calls the handler.
    /// </summary>
    bool AnswersRefusals => false;

    /// <summary>Serves the request; returns the refusal reason for the access log, or null when it was served.</summary>
    /// <param name="decision">The policy's judgement, with what it worked out (a CouchDB class) so it is not worked out again.</param>
    /// <param name="policy">The policy in force when the request arrived (a reload may swap it), for questions a body raises.</param>
    ValueTask<string?> ServeAsync(HttpExchange exchange, Route route, AccessDecision decision, IAccessPolicy policy, CancellationToken stopping);
}
