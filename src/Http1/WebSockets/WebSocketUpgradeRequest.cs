namespace Gatehouse.Http1.WebSockets;

/// <summary>
/// Whether a request is a well-formed WebSocket opening handshake (RFC 6455 §4.1), the only
/// Upgrade a gateway may tunnel (issue 17 item 4). Any other Upgrade — <c>h2c</c>, websocket on a
/// POST, without a key or version 13 — would let the backend switch the connection to something
/// the gateway never judged, so the forwarder sends such a request as an ordinary one.
/// </summary>
public static class WebSocketUpgradeRequest
{
    /// <summary>The one Upgrade value the forwarder sends upstream (RFC 6455 §4.1 item 5).</summary>
    public const string Protocol = "websocket";

    /// <summary>
    /// GET over HTTP/1.1 without a body, <c>Connection: upgrade</c>, <c>Upgrade: websocket</c> (any
    /// case), one <c>Sec-WebSocket-Version: 13</c> and one <c>Sec-WebSocket-Key</c> that is base64 of 16 bytes.
    /// </summary>
    /// <remarks>Asked for every forwarded request: <see cref="Request.IsUpgrade"/> (HTTP/1.1, Connection upgrade, an Upgrade field) first, so plain requests pay one flag.</remarks>
    public static bool IsValid(Request request)
    {
        ArgumentNullException.ThrowIfNull(request);
        if (!request.IsUpgrade || request.HasBody || !string.Equals(request.Method, HttpMethods.Get, StringComparison.Ordinal))
        {
            return false;
        }

        var headers = request.Headers;
        return headers.CountOf(KnownHeaderNames.Upgrade) == 1
            && headers.HasToken(KnownHeaderNames.Upgrade, Protocol)
            && headers.CountOf("Sec-WebSocket-Version") == 1
            && headers["Sec-WebSocket-Version"] == WebSocketHandshake.SupportedVersion
            && headers.CountOf("Sec-WebSocket-Key") == 1
            && WebSocketHandshake.IsValidKey(headers["Sec-WebSocket-Key"]!);
    }
}
