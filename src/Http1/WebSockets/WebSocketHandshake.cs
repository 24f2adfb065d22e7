using System.Buffers;
using System.Security.Cryptography;
using System.Text;

namespace Gatehouse.Http1.WebSockets;

/// <summary>
/// Judges the client's opening handshake (RFC 6455 §4.2.1) and computes the answer (§4.2.2).
/// Pure: no I/O, so every refusal is unit-testable.
/// </summary>
internal static class WebSocketHandshake
{
    /// <summary>RFC 6455 §1.3: the GUID appended to the key before hashing.</summary>
    public const string KeyGuid = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";

    public const string SupportedVersion = "13";

    // RFC 9110 §5.6.2 tchar: subprotocol names are tokens (RFC 6455 §4.1, §11.3.4).
    private static readonly SearchValues<char> TokenChars =
        SearchValues.Create("!#$%&'*+-.^_`|~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz");

    public static HandshakeDecision Validate(string method, HttpVersion version, RequestHeaders headers, bool hasBody, WebSocketEndpointOptions options)
    {
        ArgumentNullException.ThrowIfNull(headers);
        ArgumentNullException.ThrowIfNull(options);

        // A request that does not ask for websocket at all (plain HTTP, or h2c and friends) is told
        // what this route speaks rather than called malformed.
        if (!headers.HasToken(KnownHeaderNames.Upgrade, "websocket"))
        {
            return HandshakeDecision.Refused(426, "this route speaks websocket only");
        }

        if (!string.Equals(method, HttpMethods.Get, StringComparison.Ordinal))
        {
            return HandshakeDecision.Refused(400, "websocket handshake must be GET");
        }

        if (version != HttpVersion.Http11)
        {
            return HandshakeDecision.Refused(400, "websocket handshake needs HTTP/1.1");
        }

        if (hasBody)
        {
            return HandshakeDecision.Refused(400, "websocket handshake carries no body");
        }

        if (!headers.HasToken(KnownHeaderNames.Connection, "upgrade"))
        {
            return HandshakeDecision.Refused(400, "Connection must include upgrade");
        }

        if (headers.CountOf("Sec-WebSocket-Key") != 1 || !IsValidKey(headers["Sec-WebSocket-Key"]!))
        {
            return HandshakeDecision.Refused(400, "Sec-WebSocket-Key must be one base64 value of 16 bytes");
        }

        if (headers.CountOf("Sec-WebSocket-Version") != 1 || headers["Sec-WebSocket-Version"] != SupportedVersion)
        {
            return HandshakeDecision.Refused(426, "Sec-WebSocket-Version must be 13") with { AdvertiseVersion = true };
        }

        if (options.AllowedOrigins is { } allowed)
        {
            var count = headers.CountOf("Origin");
            if (count > 1)
            {
                return HandshakeDecision.Refused(400, "more than one Origin");
            }

            if (count == 1 && !Contains(allowed, headers["Origin"]!, StringComparison.OrdinalIgnoreCase))
            {
                return HandshakeDecision.Refused(403, "origin not allowed");
            }
        }

        if (!TryChooseSubProtocol(headers, options.SubProtocols, out var subProtocol))
        {
            return HandshakeDecision.Refused(400, "Sec-WebSocket-Protocol must be a list of tokens");
        }

        return HandshakeDecision.Accepted(ComputeAccept(headers["Sec-WebSocket-Key"]!), subProtocol);
    }

    /// <summary>RFC 6455 §4.2.2 step 5.4: base64(SHA-1(key + GUID)).</summary>
    public static string ComputeAccept(string key)
    {
        ArgumentNullException.ThrowIfNull(key);
        Span<byte> input = stackalloc byte[64];
        var length = Encoding.ASCII.GetBytes(key + KeyGuid, input);
        Span<byte> hash = stackalloc byte[SHA1.HashSizeInBytes];
        SHA1.HashData(input[..length], hash);
        return Convert.ToBase64String(hash);
    }

    /// <summary>RFC 6455 §4.1: a base64-encoded 16-byte value, so exactly 24 characters with "==".</summary>
    public static bool IsValidKey(string key)
    {
        Span<byte> decoded = stackalloc byte[18];
        return key.Length == 24 && Convert.TryFromBase64String(key, decoded, out var written) && written == 16;
    }

    /// <summary>
    /// The first subprotocol the client offered (in its order, RFC 6455 §4.1 item 10) that the server
    /// speaks; null when none matches — the handshake still succeeds without the header (§4.2.2).
    /// Names compare ordinally: they are registered tokens, not case-folded words.
    /// </summary>
    private static bool TryChooseSubProtocol(RequestHeaders headers, IReadOnlyList<string> supported, out string? chosen)
    {
        chosen = null;
        foreach (var value in headers.GetValues("Sec-WebSocket-Protocol"))
        {
            foreach (var range in value.AsSpan().Split(','))
            {
                var offered = value.AsSpan(range).Trim(" \t");
                if (offered.IsEmpty || offered.ContainsAnyExcept(TokenChars))
                {
                    return false;
                }

                if (chosen is null && Contains(supported, offered.ToString(), StringComparison.Ordinal))
                {
                    chosen = offered.ToString();
                }
            }
        }

        return true;
    }

    private static bool Contains(IReadOnlyList<string> list, string value, StringComparison comparison)
    {
        foreach (var item in list)
        {
            if (string.Equals(item, value, comparison))
            {
                return true;
            }
        }

        return false;
    }
}
