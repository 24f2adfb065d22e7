namespace Gatehouse.Wire;

/// <summary>The answer to plain HTTP sent to a TLS listener: a short 400 in plain text that names the scheme to use.</summary>
internal static class PlainHttpRefusal
{
    private static readonly byte[] Answer = System.Text.Encoding.ASCII.GetBytes(
        "HTTP/1.1 400 Bad Request\r\nContent-Type: text/plain; charset=utf-8\r\nConnection: close\r\nContent-Length: 69\r\n\r\n"
        + "This port speaks HTTPS: use https:// (with your client certificate).\n");

    public static async ValueTask SendAsync(Stream transport)
    {
        try
        {
            // The send buffer takes 190 bytes at once: a client that does not read cannot hold this.
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(1));
            await transport.WriteAsync(Answer, timeout.Token).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is IOException or OperationCanceledException or ObjectDisposedException or System.Net.Sockets.SocketException)
        {
            // The client is gone; there is no one left to tell.
        }
    }
}
