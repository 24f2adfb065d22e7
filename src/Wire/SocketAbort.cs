using System.Net.Sockets;

namespace Gatehouse.Wire;

/// <summary>Ends a connection from outside its handler: pending reads and writes fail at once and the peer sees the end.</summary>
public static class SocketAbort
{
    public static void Abort(Socket socket)
    {
        ArgumentNullException.ThrowIfNull(socket);
        try
        {
            socket.Shutdown(SocketShutdown.Both);
        }
        catch (Exception ex) when (ex is SocketException or ObjectDisposedException)
        {
            // Already gone.
        }

        socket.Dispose();
    }
}
