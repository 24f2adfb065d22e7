using System.Net;
using System.Net.Sockets;

namespace Gatehouse.Testing;

/// <summary>
/// Two connected loopback TCP sockets, a send that returns once the bytes are readable on the
/// other side, and a port that refuses connections: what tests over a real socket need. Linked into the test projects that need it (tests/Shared).
/// </summary>
internal static class LoopbackSockets
{
    /// <summary>An accepted socket and the client connected to it.</summary>
    public static async Task<(Socket Server, Socket Client)> ConnectedPairAsync()
    {
        using var listener = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        listener.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        listener.Listen(1);
        var client = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        await client.ConnectAsync(listener.LocalEndPoint!);
        var server = await listener.AcceptAsync();
        return (server, client);
    }

    /// <summary>Sends <paramref name="bytes"/> and returns once <paramref name="to"/> has them all waiting.</summary>
    public static async Task SendAndWaitUntilArrivedAsync(Socket from, Socket to, byte[] bytes)
    {
        await from.SendAsync(bytes, SocketFlags.None);
        // Loopback delivers at once; the poll bounds the rare wait instead of assuming it.
        var deadline = Environment.TickCount64 + 10_000;
        while (to.Available < bytes.Length)
        {
            if (Environment.TickCount64 >= deadline)
            {
                throw new TimeoutException("the bytes never arrived");
            }

            to.Poll(10_000, SelectMode.SelectRead);
            await Task.Yield();
        }
    }

    /// <summary>
    /// A loopback socket bound and never listening: while it lives, a connect to its port is refused,
    /// and no test running beside this one is handed the port. (A port probed and let go was once
    /// given to another test's upstream meanwhile.)
    /// </summary>
    public static Socket ReserveClosedPort()
    {
        var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        socket.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        return socket;
    }
}
