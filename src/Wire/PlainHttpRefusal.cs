using System.Net;
using System.Text;

namespace Gatehouse.Wire;

/// <summary>
/// The answer to plain HTTP sent to a TLS listener: a short 400 in plain text that names the URL to
/// use, as nginx answers, rather than a close that curl reports as "Empty reply from server".
/// </summary>
internal static class PlainHttpRefusal
{
    public static async ValueTask SendAsync(ConnectionStream transport)
    {
        // Nothing of the failed handshake goes first (a TLS listener holds its writes for the judgement).
        transport.DiscardHeld();
        try
        {
            // The send buffer takes the ~200 bytes at once: a client that does not read cannot hold this.
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(1));
            await transport.WriteAsync(Answer(transport.LocalEndPoint), timeout.Token).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is IOException or OperationCanceledException or ObjectDisposedException or System.Net.Sockets.SocketException)
        {
            // The client is gone; there is no one left to tell.
        }
    }

    /// <summary>The 400 naming the address the client reached (the request's Host went into the failed handshake).</summary>
    internal static byte[] Answer(IPEndPoint? local)
    {
        string where = local is null ? "" : Unmapped(local).ToString().Replace("%", "%25", StringComparison.Ordinal) + "/";
        string body = $"This port speaks HTTPS: use https://{where} (with your client certificate).\n";
        return Encoding.ASCII.GetBytes(
            $"HTTP/1.1 400 Bad Request\r\nContent-Type: text/plain; charset=utf-8\r\nConnection: close\r\nContent-Length: {body.Length}\r\n\r\n{body}");
    }

    private static IPEndPoint Unmapped(IPEndPoint endpoint) =>
        endpoint.Address.IsIPv4MappedToIPv6 ? new IPEndPoint(endpoint.Address.MapToIPv4(), endpoint.Port) : endpoint;
}
