using System.Net.WebSockets;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Gatehouse.Http1.WebSockets;

/// <summary>
/// A route that speaks WebSocket (issue 6). For each request:
/// 1. judge the upgrade request (<see cref="WebSocketHandshake"/>): plain HTTP gets 426, a malformed
///    handshake 400, a foreign origin 403;
/// 2. answer 101 with <c>Sec-WebSocket-Accept</c> and the chosen subprotocol, and take the raw stream;
/// 3. let the framework frame it (<see cref="WebSocket.CreateFromStream(Stream, WebSocketCreationOptions)"/>)
///    with ping/pong keep-alive, behind a guard that enforces <see cref="WebSocketEndpointOptions.MaxMessageBytes"/>;
/// 4. run the app's handler; when it returns, close what it left open, and the connection ends.
/// The handshake request itself is bounded by the HTTP header timeout (<c>Http1Limits.HeaderTimeout</c>),
/// which is the server's upgrade timeout.
/// </summary>
public sealed class WebSocketEndpoint : IRequestHandler
{
    // Closing what a handler left open must not hang on a peer that stopped reading.
    private static readonly TimeSpan FinalCloseWait = TimeSpan.FromSeconds(2);

    private readonly WebSocketHandler _handler;
    private readonly WebSocketEndpointOptions _options;
    private readonly ILogger _logger;

    public WebSocketEndpoint(WebSocketHandler handler, WebSocketEndpointOptions options, ILogger? logger = null)
    {
        ArgumentNullException.ThrowIfNull(handler);
        ArgumentNullException.ThrowIfNull(options);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(options.MaxMessageBytes);
        _handler = handler;
        _options = options;
        _logger = logger ?? NullLogger.Instance;
    }

    public async ValueTask HandleAsync(HttpExchange exchange, CancellationToken stopping)
    {
        ArgumentNullException.ThrowIfNull(exchange);
        var request = exchange.Request;
        var decision = WebSocketHandshake.Validate(request.Method, request.Version, request.Headers, request.HasBody, _options);
        if (!decision.IsAccepted)
        {
            Http1Log.WebSocketRefused(_logger, exchange.RemoteEndPoint, decision.StatusCode, decision.Reason);
            await RefuseAsync(exchange.Response, decision, stopping).ConfigureAwait(false);
            return;
        }

        exchange.Response.Headers.Set(KnownHeaderNames.Upgrade, "websocket");
        exchange.Response.Headers.Set("Sec-WebSocket-Accept", decision.Accept!);
        if (decision.SubProtocol is { } chosen)
        {
            exchange.Response.Headers.Set("Sec-WebSocket-Protocol", chosen);
        }

        var stream = await exchange.AcceptFramedUpgradeAsync(stopping).ConfigureAwait(false);
        try
        {
            await RunAsync(exchange, stream, decision).ConfigureAwait(false);
        }
        finally
        {
            // The socket disposed the stream; a safety-net flush in flight ends before the connection completes the pipes.
            await stream.ReleaseAsync().ConfigureAwait(false);
        }
    }

    private async Task RunAsync(HttpExchange exchange, Stream stream, HandshakeDecision decision)
    {
        var declared = new DeclaredSizeLimit(_options.MaxMessageBytes);
        var framed = WebSocket.CreateFromStream(new AbortableStream(stream, declared), new WebSocketCreationOptions
        {
            IsServer = true,
            SubProtocol = decision.SubProtocol,
            KeepAliveInterval = _options.KeepAliveInterval,
            KeepAliveTimeout = _options.KeepAliveTimeout,
        });
        using var socket = new GuardedWebSocket(framed, _options.MaxMessageBytes, "server").WatchDeclaredSizes(declared).Opened();
        var info = new WebSocketConnectionInfo(exchange.Connection.RemoteEndPoint, exchange.Connection.LocalEndPoint, exchange.Principal, decision.SubProtocol);
        var closeStatus = WebSocketCloseStatus.NormalClosure;
        try
        {
            // The drain, not the abort: a stream never ends by itself, so it ends when the stop begins.
            await _handler(socket, info, exchange.Stopping).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is WebSocketException or IOException or OperationCanceledException)
        {
            // The peer went away, broke the protocol, or the server is stopping: an expected end.
            Http1Log.WebSocketEnded(_logger, info.RemoteEndPoint, ex.Message);
        }
        catch (Exception ex)
        {
            Http1Log.WebSocketHandlerFailed(_logger, ex, info.RemoteEndPoint);
            closeStatus = WebSocketCloseStatus.InternalServerError;
        }

        if (closeStatus == WebSocketCloseStatus.NormalClosure && exchange.Stopping.IsCancellationRequested)
        {
            closeStatus = WebSocketCloseStatus.EndpointUnavailable; // 1001 going away: the client may reconnect elsewhere or later
        }

        await CloseLeftoverAsync(socket, closeStatus).ConfigureAwait(false);
    }

    private static async Task RefuseAsync(HttpResponse response, HandshakeDecision decision, CancellationToken cancellationToken)
    {
        if (decision.AdvertiseUpgrade)
        {
            response.Headers.Set(KnownHeaderNames.Upgrade, "websocket");
        }

        if (decision.AdvertiseVersion)
        {
            response.Headers.Set("Sec-WebSocket-Version", WebSocketHandshake.SupportedVersion);
        }

        await response.SendErrorAsync(decision.StatusCode, decision.Reason, cancellationToken).ConfigureAwait(false);
    }

    private static string? CloseReason(WebSocketCloseStatus status) => status switch
    {
        WebSocketCloseStatus.Empty => null, // 1005 is never sent: an empty close frame echoes it
        WebSocketCloseStatus.NormalClosure => "done",
        WebSocketCloseStatus.EndpointUnavailable => "server stopping",
        WebSocketCloseStatus.InternalServerError => "server error",
        _ => null,
    };

    /// <summary>Sends our close frame if the handler did not (RFC 6455 §7.1.2), bounded; then the TCP connection ends.</summary>
    private async Task CloseLeftoverAsync(WebSocket socket, WebSocketCloseStatus status)
    {
        if (socket.State is not (WebSocketState.Open or WebSocketState.CloseReceived))
        {
            return;
        }

        // RFC 6455 §5.5.1: the reply to a close frame echoes the status code it received.
        if (socket.State == WebSocketState.CloseReceived && status == WebSocketCloseStatus.NormalClosure && socket.CloseStatus is { } received)
        {
            status = received;
        }

        try
        {
            using var timeout = new CancellationTokenSource(FinalCloseWait);
            await socket.CloseOutputAsync(status, CloseReason(status), timeout.Token).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is WebSocketException or IOException or OperationCanceledException or ObjectDisposedException)
        {
            Http1Log.WebSocketCloseFailed(_logger, ex.Message);
        }
    }
}
