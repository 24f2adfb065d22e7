namespace Gatehouse.Http1;

/// <summary>Serves one parsed request. The connection loop owns framing, keep-alive and error answers.</summary>
public interface IRequestHandler
{
    /// <summary>
    /// Handles <paramref name="exchange"/>. <paramref name="stopping"/> fires when the server's
    /// shutdown grace is over and the connection is being aborted; when the drain begins,
    /// <see cref="HttpExchange.Stopping"/> fires instead, and long-lived answers (feeds, WebSockets)
    /// should end cleanly then while ordinary ones finish. A ValueTask, so a handler built with
    /// a pooling builder (Gatehouse.Wire.Async.PooledValueTaskMethodBuilder) costs no
    /// allocation per keep-alive request (issue 9).
    /// </summary>
    ValueTask HandleAsync(HttpExchange exchange, CancellationToken stopping);
}
