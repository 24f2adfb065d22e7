using System.Net.Sockets;

namespace Gatehouse.Wire;

/// <summary>
/// Sets SO_REUSEADDR alone, so a restarted gate can rebind its port while old connections sit in
/// TIME_WAIT. Not <c>SocketOptionName.ReuseAddress</c>: on Unix .NET sets SO_REUSEPORT with it,
/// which would let a second process bind the same port and take a share of our clients. On Windows
/// the option means "steal the port" and is left alone.
/// </summary>
internal static class ReuseAddress
{
    public static void Enable(Socket socket)
    {
        (int Level, int Name)? option = OperatingSystem.IsLinux() ? (1, 2) // SOL_SOCKET, SO_REUSEADDR (asm-generic/socket.h)
            : OperatingSystem.IsMacOS() || OperatingSystem.IsFreeBSD() ? (0xffff, 0x0004) // sys/socket.h
            : null;
        if (option is { } raw)
        {
            socket.SetRawSocketOption(raw.Level, raw.Name, BitConverter.GetBytes(1));
        }
    }
}
