using System.Net.WebSockets;
using System.Security.Cryptography;
using System.Text;

namespace Gatehouse.Http1.WebSockets;

/// <summary>
/// The client half of the opening handshake (RFC 6455 §4.1): writes the upgrade request and checks
/// the 101. The head is read byte by byte from the (buffering) TLS stream so not one byte of the
/// first frames after it is taken from the framework.
/// </summary>
internal static class ClientUpgrade
{
    private const int MaxResponseHeadBytes = 16 * 1024;

    /// <summary>Runs the handshake; returns the subprotocol the server chose, or null.</summary>
    public static async Task<string?> RunAsync(Stream stream, WssAddress address, IReadOnlyList<string> subProtocols, CancellationToken cancellationToken)
    {
        var key = Convert.ToBase64String(RandomNumberGenerator.GetBytes(16));
        var request = new StringBuilder(256)
            .Append("GET ").Append(address.PathAndQuery).Append(" HTTP/1.1\r\n")
            .Append("Host: ").Append(address.HostHeader).Append("\r\n")
            .Append("Upgrade: websocket\r\nConnection: Upgrade\r\n")
            .Append("Sec-WebSocket-Key: ").Append(key).Append("\r\n")
            .Append("Sec-WebSocket-Version: 13\r\n");
        if (subProtocols.Count > 0)
        {
            request.Append("Sec-WebSocket-Protocol: ").AppendJoin(", ", subProtocols).Append("\r\n");
        }

        request.Append("\r\n");
        await stream.WriteAsync(Encoding.ASCII.GetBytes(request.ToString()), cancellationToken).ConfigureAwait(false);
        await stream.FlushAsync(cancellationToken).ConfigureAwait(false);

        var head = await ReadHeadAsync(stream, cancellationToken).ConfigureAwait(false);
        return Check(head, WebSocketHandshake.ComputeAccept(key), subProtocols);
    }

    /// <summary>Validates a response head against what was asked (RFC 6455 §4.1, the client's checks 1–6).</summary>
    internal static string? Check(string head, string expectedAccept, IReadOnlyList<string> offered)
    {
        var lines = head.Split("\r\n");
        var status = lines[0].Split(' ', 3);
        if (status.Length < 2 || !status[0].StartsWith("HTTP/1.", StringComparison.Ordinal))
        {
            throw new WebSocketException(WebSocketError.HeaderError, "the server did not answer with HTTP");
        }

        if (status[1] != "101")
        {
            throw new WebSocketException(WebSocketError.NotAWebSocket, $"the server refused the upgrade: {status[1]} {(status.Length > 2 ? status[2] : string.Empty)}".TrimEnd());
        }

        var headers = new RequestHeaders();
        foreach (var line in lines.AsSpan(1))
        {
            var colon = line.IndexOf(':', StringComparison.Ordinal);
            if (colon <= 0)
            {
                throw new WebSocketException(WebSocketError.HeaderError, "malformed header in the server's 101");
            }

            headers.Add(line[..colon], line[(colon + 1)..].Trim(' ', '\t'));
        }

        if (!headers.HasToken(KnownHeaderNames.Upgrade, "websocket") || !headers.HasToken(KnownHeaderNames.Connection, "upgrade"))
        {
            throw new WebSocketException(WebSocketError.HeaderError, "the server's 101 lacks Upgrade: websocket / Connection: Upgrade");
        }

        if (headers.CountOf("Sec-WebSocket-Accept") != 1 || headers["Sec-WebSocket-Accept"] != expectedAccept)
        {
            throw new WebSocketException(WebSocketError.HeaderError, "the server's Sec-WebSocket-Accept does not match our key");
        }

        if (headers.Contains("Sec-WebSocket-Extensions"))
        {
            // We offered none; RFC 6455 §4.1 check 5 says the client must fail the connection.
            throw new WebSocketException(WebSocketError.HeaderError, "the server chose an extension we did not offer");
        }

        var chosen = headers["Sec-WebSocket-Protocol"];
        if (chosen is not null && (headers.CountOf("Sec-WebSocket-Protocol") != 1 || !offered.Contains(chosen, StringComparer.Ordinal)))
        {
            throw new WebSocketException(WebSocketError.UnsupportedProtocol, $"the server chose subprotocol '{chosen}', which we did not offer");
        }

        return chosen;
    }

    private static async Task<string> ReadHeadAsync(Stream stream, CancellationToken cancellationToken)
    {
        var bytes = new byte[MaxResponseHeadBytes];
        var length = 0;
        while (true)
        {
            if (length == bytes.Length)
            {
                throw new WebSocketException(WebSocketError.HeaderError, "the server's response head is too long");
            }

            var read = await stream.ReadAsync(bytes.AsMemory(length, 1), cancellationToken).ConfigureAwait(false);
            if (read == 0)
            {
                throw new WebSocketException(WebSocketError.ConnectionClosedPrematurely,
                    "the server closed the connection during the upgrade (was our client certificate refused?)");
            }

            length++;
            if (length >= 4 && bytes.AsSpan(length - 4, 4).SequenceEqual("\r\n\r\n"u8))
            {
                return Encoding.Latin1.GetString(bytes, 0, length - 4);
            }
        }
    }
}
