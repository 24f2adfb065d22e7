namespace Gatehouse.Http1;

/// <summary>Serves one parsed request. The connection loop owns framing, keep-alive and error answers.</summary>
public interface IRequestHandler
{
    /// <summary>
    /// Handles <paramref name="exchange"/>. <paramref name="stopping"/> fires when the server shuts
    /// down; long-lived answers (feeds, tunnels) should end then.
    /// </summary>
    Task HandleAsync(HttpExchange exchange, CancellationToken stopping);
}
