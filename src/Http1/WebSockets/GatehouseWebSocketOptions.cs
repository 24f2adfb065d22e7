namespace Gatehouse.Http1.WebSockets;

/// <summary>How <see cref="GatehouseWebSocket.ConnectAsync"/> connects and keeps its stream.</summary>
public sealed class GatehouseWebSocketOptions
{
    /// <summary>Subprotocols to offer, most wanted first. The server's choice is <c>WebSocket.SubProtocol</c>.</summary>
    public IReadOnlyList<string> SubProtocols { get; init; } = [];

    /// <summary>PING interval; zero or infinite turns keep-alive off.</summary>
    public TimeSpan KeepAliveInterval { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>How long to wait for the PONG before the stream is aborted as dead.</summary>
    public TimeSpan KeepAliveTimeout { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>Bound on TCP connect, TLS handshake and the HTTP upgrade together.</summary>
    public TimeSpan ConnectTimeout { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>The largest message the caller can be made to receive; a longer one closes with 1009.</summary>
    public int MaxMessageBytes { get; init; } = 16 * 1024 * 1024;
}
