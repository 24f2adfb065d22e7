using System.Buffers.Text;
using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Authentication;

namespace Floor;

/// <summary>What both floors share: a connection's two ends, and the one field they read.</summary>
internal static class Ends
{
    /// <summary>The canned answer to <c>GET /local</c>, about the size of Gatehouse's whoami answer to a client without a certificate.</summary>
    public static ReadOnlyMemory<byte> LocalAnswer { get; } =
        "HTTP/1.1 200 OK\r\nDate: Mon, 07 Dec 2026 14:00:00 GMT\r\nCache-Control: no-store\r\nContent-Type: application/json\r\nContent-Length: 99\r\n\r\n{\"pin\":null,\"subject\":null,\"trust\":\"anonymous\",\"trustName\":null,\"remoteAddress\":\"127.0.0.1\",\"x\":\"\"}"u8.ToArray();

    /// <summary>The client's TLS stream, handshake done, and a new upstream connection.</summary>
    public static async Task<(SslStream Tls, Socket Upstream)> OpenAsync(Socket client, SslStreamCertificateContext context, IPEndPoint backend)
    {
        client.NoDelay = true;
        var tls = new SslStream(new NetworkStream(client, ownsSocket: true));
        await tls.AuthenticateAsServerAsync(new SslServerAuthenticationOptions
        {
            ServerCertificateContext = context,
            ClientCertificateRequired = false,
            EnabledSslProtocols = SslProtocols.Tls12 | SslProtocols.Tls13,
        }).ConfigureAwait(false);
        var upstream = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        await upstream.ConnectAsync(backend).ConfigureAwait(false);
        return (tls, upstream);
    }

    /// <summary>Errors that mean the client or the backend went away: nothing to report for a measurement tool.</summary>
    public static bool IsGone(Exception ex) => ex is IOException or SocketException or AuthenticationException;

    /// <summary>The backend's Content-Length (the bench backend always sends one), or 0.</summary>
    public static int ContentLength(ReadOnlySpan<byte> head)
    {
        var at = head.IndexOf("\r\nContent-Length: "u8);
        if (at < 0)
        {
            return 0;
        }

        var digits = head[(at + 18)..];
        var stop = digits.IndexOf("\r\n"u8);
        return Utf8Parser.TryParse(stop < 0 ? digits : digits[..stop], out int value, out _) ? value : 0;
    }
}
