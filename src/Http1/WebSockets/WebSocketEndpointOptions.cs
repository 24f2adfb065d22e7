namespace Gatehouse.Http1.WebSockets;

/// <summary>How a <see cref="WebSocketEndpoint"/> accepts and keeps its streams.</summary>
public sealed class WebSocketEndpointOptions
{
    /// <summary>Subprotocols the app speaks, in no particular order; the client's first offered one that is here wins.</summary>
    public IReadOnlyList<string> SubProtocols { get; init; } = [];

    /// <summary>
    /// When set, a request carrying an <c>Origin</c> not in this list (exact, case-insensitive) is refused
    /// with 403. Requests without <c>Origin</c> (non-browser clients) pass: the check exists to stop
    /// cross-site WebSocket hijacking from browsers, which always send it (RFC 6455 §10.2).
    /// </summary>
    public IReadOnlyList<string>? AllowedOrigins { get; init; }

    /// <summary>How often a PING goes out when the stream is idle. Zero or infinite turns keep-alive off.</summary>
    public TimeSpan KeepAliveInterval { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>
    /// How long to wait for the PONG before the stream is aborted as dead (a peer frozen or cut off
    /// without a FIN). Zero or infinite sends unsolicited PONGs instead and never detects a dead peer.
    /// </summary>
    public TimeSpan KeepAliveTimeout { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>
    /// The largest message the handler can be made to receive; a longer one closes the stream with
    /// 1009 (RFC 6455 §7.4.1). The framework itself has no limit.
    /// </summary>
    public int MaxMessageBytes { get; init; } = 16 * 1024 * 1024;
}
