using Gatehouse.Http1;
using Gatehouse.Policy;
using Microsoft.Extensions.Logging;

namespace Gatehouse.Routing;

/// <summary>
/// The requests being served right now under a policy grant, so a reload can judge each again by
/// the grant it used (issue 17, hole 7): a continuous <c>_changes</c> feed, a tunnel or a download
/// lives only as long as that grant. A principal that keeps some other grant keeps its connection
/// only if this request would still be allowed.
/// </summary>
/// <remarks>
/// One lock, taken twice per request and once per reload pass: registration and the pass are
/// serialized, so a request allowed under the previous rules either is in the set when the pass
/// runs, or registers after it and is judged by the new rules there and then. A <see cref="Lock"/>,
/// not a monitor on the dictionary: its enter and exit are managed code the JIT inlines, where a
/// monitor's are calls into the runtime (issue 22).
/// </remarks>
internal sealed class LiveRequests
{
    private readonly Dictionary<HttpExchange, RouteGeneration> _live = [];
    private readonly Lock _lock = new();
    private readonly ILogger _logger;

    public LiveRequests(ILogger logger) => _logger = logger;

    /// <summary>
    /// Adds a request the policy of <paramref name="judgedBy"/> allowed. False when a reload put
    /// other rules in force meanwhile and they refuse it: the caller refuses the request.
    /// </summary>
    public bool TryAdd(HttpExchange exchange, RouteGeneration judgedBy, RouteGeneration current)
    {
        lock (_lock)
        {
            if (!ReferenceEquals(judgedBy, current) && WhyRevoked(exchange, current) is not null)
            {
                return false;
            }

            _live[exchange] = current;
            return true;
        }
    }

    public void Remove(HttpExchange exchange)
    {
        lock (_lock)
        {
            _live.Remove(exchange);
        }
    }

    /// <summary>Judges every live request by <paramref name="current"/>; closes the connections of those it refuses. Returns how many.</summary>
    public int Rejudge(RouteGeneration current)
    {
        var closed = 0;
        lock (_lock)
        {
            foreach (var (exchange, judgedBy) in _live)
            {
                // Judged already, or on a connection the trust pass of the same reload has just closed.
                if (ReferenceEquals(judgedBy, current) || exchange.Connection.Socket.SafeHandle.IsClosed)
                {
                    continue;
                }

                if (WhyRevoked(exchange, current) is { } reason)
                {
                    _logger.LogInformation(
                        "closed {Method} {Path} of {Pin} from {Remote}: {Reason}",
                        exchange.Request.Method,
                        exchange.Request.Target.Path,
                        exchange.Principal.Pin,
                        exchange.RemoteAddress,
                        reason);
                    Wire.SocketAbort.Abort(exchange.Connection.Socket);
                    closed++;
                }
            }

            // Judged by the rules now in force: a second reload judges them again.
            foreach (var exchange in _live.Keys.ToArray())
            {
                _live[exchange] = current;
            }
        }

        return closed;
    }

    /// <summary>Why <paramref name="generation"/> would not serve this request any more; null when it still would.</summary>
    private static string? WhyRevoked(HttpExchange exchange, RouteGeneration generation)
    {
        if (generation.Routes.Match(exchange.Request) is not { } route)
        {
            return "the reloaded config has no route for it";
        }

        var decision = generation.Policy.Authorize(exchange.Principal, exchange.Request, route);
        return decision.Allowed ? null : "the reloaded rules refuse it: " + decision.Reason;
    }
}
