using Gatehouse.Files;
using Gatehouse.Http1;
using Gatehouse.Model;
using Gatehouse.Policy;
using Microsoft.Extensions.Logging;

namespace Gatehouse.Routing;

/// <summary>A files route (issue 1): the content-addressed store behind the prefix, with the right the method needs.</summary>
internal sealed class FileRouteHandler(FileEndpoint endpoint) : IRouteHandler
{
    public static FileRouteHandler Create(Route route, ILoggerFactory loggers) =>
        new(new FileEndpoint(new FileStore(new FileStoreOptions { StoreRoots = [.. route.Stores] }), loggers.CreateLogger("Gatehouse.Files")));

    public async ValueTask<string?> ServeAsync(HttpExchange exchange, Route route, AccessDecision decision, IAccessPolicy policy, CancellationToken stopping)
    {
        // The policy allowed exactly the right this method needs; the endpoint checks the same one.
        // No token: a transfer in flight at shutdown finishes within the grace period (issue 10);
        // past it, the Wire layer closes the connection, and the upload's temp file goes.
        var rights = FileMethodRights.For(exchange.Request.Method);
        await endpoint.HandleAsync(exchange, route.TailOf(exchange.Request).ToArray(), rights, decision.MaxUploadBytes, CancellationToken.None).ConfigureAwait(false);
        return null;
    }

    public ValueTask DisposeAsync() => ValueTask.CompletedTask;
}
