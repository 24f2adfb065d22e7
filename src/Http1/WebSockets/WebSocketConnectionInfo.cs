using System.Net;
using System.Net.WebSockets;
using Gatehouse.Wire;

namespace Gatehouse.Http1.WebSockets;

/// <summary>Who is on the other end of an accepted WebSocket stream, and what was agreed.</summary>
/// <param name="RemoteEndPoint">The peer's address and port.</param>
/// <param name="LocalEndPoint">The local address and port the peer connected to.</param>
/// <param name="Principal">The key proven in the TLS handshake.</param>
/// <param name="SubProtocol">The negotiated subprotocol, or null when none was.</param>
public sealed record WebSocketConnectionInfo(IPEndPoint RemoteEndPoint, IPEndPoint LocalEndPoint, Principal Principal, string? SubProtocol);

/// <summary>
/// The app's side of an accepted stream. The stream lives until the handler returns; if the
/// handler leaves it open, the endpoint closes it (1000, or 1011 when the handler threw).
/// <paramref name="stopping"/> fires when the server shuts down.
/// </summary>
public delegate Task WebSocketHandler(WebSocket socket, WebSocketConnectionInfo info, CancellationToken stopping);
