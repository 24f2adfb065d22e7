using Gatehouse.Http1;
using Gatehouse.Http1.WebSockets;

namespace Gatehouse.WebSockets.Tests.Support;

/// <summary>
/// Maps test paths to WebSocket endpoints, each with the options its tests need. The endpoint is
/// made per request so a handler can find its test's <see cref="Probe"/> from the <c>?id=</c> query.
/// </summary>
internal sealed class TestRouter(Probes probes) : IRequestHandler
{
    private static readonly TimeSpan Second = TimeSpan.FromSeconds(1);
    private static readonly WebSocketEndpointOptions Standard = new() { MaxMessageBytes = TestHandlers.EchoMaxBytes };

    // Short keep-alive: a dead peer is found in 1 s + 1 s, and a frame that never completes (a
    // declared 1 TiB length) ends by that timeout instead of never.
    private static readonly WebSocketEndpointOptions Quick = new() { KeepAliveInterval = Second, KeepAliveTimeout = Second };

    public ValueTask HandleAsync(HttpExchange exchange, CancellationToken stopping)
    {
        var query = exchange.Request.Target.Query ?? string.Empty;
        var probe = probes[query.StartsWith("id=", StringComparison.Ordinal) ? query[3..] : string.Empty];
        WebSocketEndpoint? endpoint = exchange.Request.Target.Path switch
        {
            "/echo" => new((socket, _, s) => TestHandlers.EchoAsync(socket, s), Standard),
            "/corpus" => new((socket, _, s) => TestHandlers.EchoAsync(socket, s), Quick),
            "/half" => new((socket, _, s) => TestHandlers.HalfCloseAsync(socket, s), Standard),
            "/flood" => new((socket, _, s) => TestHandlers.FloodAsync(socket, probe, s), Standard),
            "/stall" => new((socket, _, s) => TestHandlers.StallAsync(socket, probe, s), Standard),
            "/watch" => new((socket, _, s) => TestHandlers.WatchAsync(socket, probe, s), Standard),
            "/dead" => new((socket, _, s) => TestHandlers.WatchAsync(socket, probe, s), Quick),
            "/reply-then-wait" => new((socket, _, s) => TestHandlers.ReplyThenWaitAsync(socket, s), Standard),
            "/read-once-then-push" => new((socket, _, s) => TestHandlers.ReadOnceThenPushAsync(socket, s), Standard),
            "/reply-then-abort" => new((socket, _, s) => TestHandlers.ReplyThenAbortAsync(socket, probe, s), Standard),
            "/protocol" => new(TestHandlers.SayProtocolAsync, new WebSocketEndpointOptions { SubProtocols = ["chat.v1", "chat.v2"] }),
            "/origin" => new(TestHandlers.SayProtocolAsync, new WebSocketEndpointOptions { AllowedOrigins = ["https://app.example"] }),
            _ => null,
        };

        return endpoint is null
            ? exchange.Response.SendErrorAsync(404, "no such route", stopping)
            : endpoint.HandleAsync(exchange, stopping);
    }
}
