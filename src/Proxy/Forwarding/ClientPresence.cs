using System.Net.Sockets;

namespace Gatehouse.Proxy;

/// <summary>
/// Whether a client has left, asked of its socket without reading from it, so the connection's pipe
/// and TLS state are never touched: readable with nothing to read means it closed (FIN) or reset;
/// bytes waiting (a pipelined request, a TLS record) keep it counted as present.
/// </summary>
public static class ClientPresence
{
    private const int SolTcp = 6;
    private const int TcpInfo = 11;
    private const byte TcpEstablished = 1;

    /// <summary>tcp_info's first byte, tcpi_state (linux/tcp.h); null when it cannot be read.</summary>
    private static byte? TcpState(Socket client)
    {
        Span<byte> info = stackalloc byte[8];
        return client.GetRawSocketOption(SolTcp, TcpInfo, info) >= 1 ? info[0] : null;
    }

    /// <summary>True when the peer closed or reset; a socket that cannot be asked counts as gone.</summary>
    public static bool HasLeft(Socket client)
    {
        try
        {
            // On Linux one getsockopt answers both cases, and it is asked once per queued request: a
            // FIN moves the socket out of ESTABLISHED (to CLOSE_WAIT), a reset or a pending error to
            // CLOSED. It also sees a TLS client's FIN behind its close_notify, which the poll below
            // cannot (bytes wait, so the socket looks present; nginx reads EPOLLRDHUP for this).
            if (OperatingSystem.IsLinux() && TcpState(client) is { } state)
            {
                return state != TcpEstablished;
            }

            return client.Poll(0, SelectMode.SelectRead) && client.Available == 0;
        }
        catch (Exception ex) when (ex is SocketException or ObjectDisposedException)
        {
            return true;
        }
    }
}
