using Gatehouse.Http1;
using Gatehouse.Wire;

namespace Gatehouse.Files.Tests;

/// <summary>What the executable does, in miniature: /files/... goes to the endpoint with the rights the "policy" grants.</summary>
internal sealed class TestRouter(FileEndpoint endpoint, Func<Principal, FileRights> policy) : IRequestHandler
{
    public ValueTask HandleAsync(HttpExchange exchange, CancellationToken stopping)
    {
        var segments = exchange.Request.Target.Segments;
        if (segments.Count == 0 || segments[0] != "files")
        {
            return exchange.Response.SendErrorAsync(404, "no route", stopping);
        }

        return new ValueTask(endpoint.HandleAsync(exchange, segments.Skip(1).ToArray(), policy(exchange.Principal), stopping));
    }
}
