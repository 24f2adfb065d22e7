using System.Net;
using System.Net.Sockets;

namespace Gatehouse.Discovery;

/// <summary>A datagram heard on port 5353: its bytes, who sent it and on which interface.</summary>
internal readonly record struct Datagram(ReadOnlyMemory<byte> Bytes, IPEndPoint From, int InterfaceIndex);

/// <summary>
/// The two multicast DNS sockets (RFC 6762 §3): UDP port 5353 on IPv6 joined to ff02::fb and on
/// IPv4 joined to 224.0.0.251, on each interface by index. Both bind with SO_REUSEADDR so a system
/// responder (Avahi) or another gateway on the same host can share the port; no daemon, no DBus.
/// Sends are per interface and serialized, because the outgoing interface is a socket option.
/// </summary>
internal sealed class MulticastSockets : IDisposable
{
    public const int Port = 5353;

    public static readonly IPAddress GroupV6 = IPAddress.Parse("ff02::fb");
    public static readonly IPAddress GroupV4 = IPAddress.Parse("224.0.0.251");

    private readonly Socket? _v6;
    private readonly Socket? _v4;
    private readonly SemaphoreSlim _sending = new(1, 1);
    private readonly HashSet<int> _joinedV6 = [];
    private readonly HashSet<int> _joinedV4 = [];
    private readonly Lock _membership = new(); // the rescan joins while a receive handler sends

    private MulticastSockets(Socket? v6, Socket? v4)
    {
        _v6 = v6;
        _v4 = v4;
    }

    /// <summary>Opens what it can; throws <see cref="SocketException"/> only when neither family could bind.</summary>
    public static MulticastSockets Open(Action<string> warn)
    {
        var v6 = TryOpen(AddressFamily.InterNetworkV6, warn);
        var v4 = TryOpen(AddressFamily.InterNetwork, warn);
        if (v6 is null && v4 is null)
        {
            throw new SocketException((int)SocketError.AddressAlreadyInUse);
        }

        return new MulticastSockets(v6, v4);
    }

    /// <summary>Joins the groups on an interface not joined before; returns true when it is new.</summary>
    public bool Join(LinkInterface link, Action<string> warn)
    {
        lock (_membership)
        {
            return JoinLocked(link, warn);
        }
    }

    private bool JoinLocked(LinkInterface link, Action<string> warn)
    {
        var added = false;
        if (_v6 is not null && !_joinedV6.Contains(link.Index))
        {
            try
            {
                _v6.SetSocketOption(SocketOptionLevel.IPv6, SocketOptionName.AddMembership, new IPv6MulticastOption(GroupV6, link.Index));
                _joinedV6.Add(link.Index);
                added = true;
            }
            catch (SocketException ex) when (ex.SocketErrorCode == SocketError.AddressAlreadyInUse)
            {
                // Still a member from before the interface went down and came back: that is joined.
                _joinedV6.Add(link.Index);
                added = true;
            }
            catch (SocketException ex)
            {
                warn($"cannot join {GroupV6} on {link.Name}: {ex.Message}");
            }
        }

        if (_v4 is not null && !_joinedV4.Contains(link.Index) && link.Addresses.Any(a => a.AddressFamily == AddressFamily.InterNetwork))
        {
            try
            {
                _v4.SetSocketOption(SocketOptionLevel.IP, SocketOptionName.AddMembership, new MulticastOption(GroupV4, link.Index));
                _joinedV4.Add(link.Index);
                added = true;
            }
            catch (SocketException ex) when (ex.SocketErrorCode == SocketError.AddressAlreadyInUse)
            {
                _joinedV4.Add(link.Index);
                added = true;
            }
            catch (SocketException ex)
            {
                warn($"cannot join {GroupV4} on {link.Name}: {ex.Message}");
            }
        }

        return added;
    }

    /// <summary>Forgets an interface that went away (the kernel drops its memberships with it).</summary>
    public void Forget(int index)
    {
        lock (_membership)
        {
            _joinedV6.Remove(index);
            _joinedV4.Remove(index);
        }
    }

    /// <summary>Multicasts <paramref name="message"/> on one interface, on each family joined there.</summary>
    public async Task SendAsync(byte[] message, int interfaceIndex, CancellationToken cancellationToken)
    {
        bool v6, v4;
        lock (_membership)
        {
            v6 = _v6 is not null && _joinedV6.Contains(interfaceIndex);
            v4 = _v4 is not null && _joinedV4.Contains(interfaceIndex);
        }

        await _sending.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (v6)
            {
                _v6!.SetSocketOption(SocketOptionLevel.IPv6, SocketOptionName.MulticastInterface, interfaceIndex);
                await _v6.SendToAsync(message, SocketFlags.None, new IPEndPoint(GroupV6, Port), cancellationToken).ConfigureAwait(false);
            }

            if (v4)
            {
                // IP_MULTICAST_IF takes the index in network order when given as an integer.
                _v4!.SetSocketOption(SocketOptionLevel.IP, SocketOptionName.MulticastInterface, IPAddress.HostToNetworkOrder(interfaceIndex));
                await _v4.SendToAsync(message, SocketFlags.None, new IPEndPoint(GroupV4, Port), cancellationToken).ConfigureAwait(false);
            }
        }
        finally
        {
            _sending.Release();
        }
    }

    /// <summary>The receive loops, one per open family; each ends when <paramref name="cancellationToken"/> fires or the socket closes.</summary>
    public IEnumerable<Task> Receive(Func<Datagram, Task> handle, Action<string> warn, CancellationToken cancellationToken)
    {
        foreach (var socket in new[] { _v6, _v4 })
        {
            if (socket is not null)
            {
                yield return ReceiveLoopAsync(socket, handle, warn, cancellationToken);
            }
        }
    }

    public void Dispose()
    {
        _v6?.Dispose();
        _v4?.Dispose();
        _sending.Dispose();
    }

    private static async Task ReceiveLoopAsync(Socket socket, Func<Datagram, Task> handle, Action<string> warn, CancellationToken cancellationToken)
    {
        // One byte more than the largest message we accept, so an oversized one shows as such.
        var buffer = new byte[DnsMessageReader.MaxMessageBytes + 1];
        EndPoint any = socket.AddressFamily == AddressFamily.InterNetworkV6 ? new IPEndPoint(IPAddress.IPv6Any, 0) : new IPEndPoint(IPAddress.Any, 0);
        while (!cancellationToken.IsCancellationRequested)
        {
            SocketReceiveMessageFromResult result;
            try
            {
                result = await socket.ReceiveMessageFromAsync(buffer, SocketFlags.None, any, cancellationToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                return;
            }
            catch (ObjectDisposedException)
            {
                return;
            }
            catch (SocketException ex) when (ex.SocketErrorCode is SocketError.MessageSize or SocketError.ConnectionReset)
            {
                continue;
            }
            catch (SocketException ex)
            {
                warn($"multicast DNS receive stopped: {ex.Message}");
                return;
            }

            if ((result.SocketFlags & SocketFlags.Truncated) != 0 || result.RemoteEndPoint is not IPEndPoint from)
            {
                continue;
            }

            await handle(new Datagram(buffer.AsMemory(0, result.ReceivedBytes), from, result.PacketInformation.Interface)).ConfigureAwait(false);
        }
    }

    private static Socket? TryOpen(AddressFamily family, Action<string> warn)
    {
        var socket = new Socket(family, SocketType.Dgram, ProtocolType.Udp);
        try
        {
            socket.SetSocketOption(SocketOptionLevel.Socket, SocketOptionName.ReuseAddress, true);
            if (family == AddressFamily.InterNetworkV6)
            {
                socket.DualMode = false;
                socket.SetSocketOption(SocketOptionLevel.IPv6, SocketOptionName.PacketInformation, true);
                socket.SetSocketOption(SocketOptionLevel.IPv6, SocketOptionName.MulticastTimeToLive, 255); // RFC 6762 §11
                socket.SetSocketOption(SocketOptionLevel.IPv6, SocketOptionName.MulticastLoopback, true);
                socket.Bind(new IPEndPoint(IPAddress.IPv6Any, Port));
            }
            else
            {
                socket.SetSocketOption(SocketOptionLevel.IP, SocketOptionName.PacketInformation, true);
                socket.SetSocketOption(SocketOptionLevel.IP, SocketOptionName.MulticastTimeToLive, 255);
                socket.SetSocketOption(SocketOptionLevel.IP, SocketOptionName.MulticastLoopback, true);
                socket.Bind(new IPEndPoint(IPAddress.Any, Port));
            }

            return socket;
        }
        catch (SocketException ex)
        {
            socket.Dispose();
            warn($"multicast DNS over {(family == AddressFamily.InterNetworkV6 ? "IPv6" : "IPv4")} is off: cannot bind UDP port {Port}: {ex.Message}");
            return null;
        }
    }
}
