using System.Net.Sockets;
using System.Security.Authentication;

namespace Gatehouse.Wire;

/// <summary>Tells a peer going away (logged quietly) from a real fault (logged as a warning).</summary>
internal static class Disconnects
{
    /// <summary>During a handshake almost every failure is the peer's doing: it left, spoke no TLS, or refused our key.</summary>
    public static bool IsExpectedInHandshake(Exception exception) => exception switch
    {
        AuthenticationException => true,
        IOException => true,
        _ => IsExpected(exception),
    };

    /// <summary>After the handshake only socket-level departures and our own shutdown are expected.</summary>
    public static bool IsExpected(Exception exception) => exception switch
    {
        SocketException socket => IsPeerGone(socket.SocketErrorCode),
        IOException { InnerException: SocketException socket } => IsPeerGone(socket.SocketErrorCode),
        // The server aborted the socket at the end of the shutdown grace.
        ObjectDisposedException => true,
        OperationCanceledException => true,
        _ => false,
    };

    private static bool IsPeerGone(SocketError error) => error is
        SocketError.ConnectionReset or
        SocketError.ConnectionAborted or
        SocketError.Shutdown or
        SocketError.OperationAborted or
        SocketError.NetworkReset or
        SocketError.NotConnected or
        SocketError.TimedOut;
}
