using Gatehouse.Http1.WebSockets;

namespace Gatehouse.Routing;

/// <summary>
/// What an embedding app registers for a <c>"kind": "websocket"</c> route of the same name:
/// the handler that receives each accepted stream, and the stream's options (subprotocols,
/// origins, keep-alive, message size).
/// </summary>
public sealed record WebSocketRoute(WebSocketHandler Handler, WebSocketEndpointOptions Options);
