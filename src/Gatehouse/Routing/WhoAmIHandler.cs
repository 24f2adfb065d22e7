using System.Runtime.CompilerServices;
using System.Text.Json;
using Gatehouse.Config;
using Gatehouse.Http1;
using Gatehouse.Model;
using Gatehouse.Policy;
using Gatehouse.Wire;

namespace Gatehouse.Routing;

/// <summary><c>GET /_gatehouse/whoami</c>: the gateway's own route, open to anyone the TLS layer let in.</summary>
internal sealed class WhoAmIHandler : IRouteHandler
{
    public static WhoAmIHandler Instance { get; } = new();

    /// <summary>
    /// The last whoami body of each principal object (one per TLS connection; the local user's is
    /// shared), kept while the principal lives: the answer depends on nothing else but the address,
    /// so a connection asking again gets the same bytes instead of a new object and array (issue 9).
    /// </summary>
    private static readonly ConditionalWeakTable<Principal, WhoAmIAnswer> Answers = new();

    private WhoAmIHandler()
    {
    }

    public async ValueTask<string?> ServeAsync(HttpExchange exchange, Route route, AccessDecision decision, IAccessPolicy policy, CancellationToken stopping)
    {
        if (exchange.Request.Method is not (HttpMethods.Get or HttpMethods.Head))
        {
            exchange.Response.Headers.Set("Allow", "GET, HEAD");
            await exchange.Response.SendErrorAsync(405, "use GET", stopping).ConfigureAwait(false);
            return null;
        }

        exchange.Response.Headers.Set("Cache-Control", "no-store");
        await exchange.Response.SendAsync(200, "application/json", Body(exchange.Principal, exchange.RemoteAddress), stopping).ConfigureAwait(false);
        return null;
    }

    // Shared by every generation: nothing to close.
    public ValueTask DisposeAsync() => ValueTask.CompletedTask;

    private static byte[] Body(Principal principal, string remoteAddress)
    {
        if (Answers.TryGetValue(principal, out var kept) && kept.RemoteAddress == remoteAddress)
        {
            return kept.Json;
        }

        var body = new WhoAmI
        {
            Pin = principal.Pin,
            Subject = principal.Subject,
            Trust = TrustLabel.Of(principal.Source),
            TrustName = principal.TrustName,
            RemoteAddress = remoteAddress,
        };
        var json = JsonSerializer.SerializeToUtf8Bytes(body, ConfigJsonContext.Output.WhoAmI);
        Answers.AddOrUpdate(principal, new WhoAmIAnswer(remoteAddress, json));
        return json;
    }

    private sealed record WhoAmIAnswer(string RemoteAddress, byte[] Json);
}
