using System.Net;
using System.Net.NetworkInformation;
using System.Net.Sockets;

namespace Gatehouse.Discovery;

/// <summary>A multicast-capable interface that is up, with its index, name and unicast addresses now.</summary>
internal sealed record LinkInterface(int Index, string Name, IReadOnlyList<IPAddress> Addresses)
{
    /// <summary>
    /// The interfaces to announce and browse on: up (or "unknown", as some virtual links report),
    /// multicast-capable, not loopback; only those named in <paramref name="only"/> when it is not empty.
    /// </summary>
    public static List<LinkInterface> Current(IReadOnlyCollection<string> only)
    {
        var found = new List<LinkInterface>();
        foreach (var nic in NetworkInterface.GetAllNetworkInterfaces())
        {
            if (nic.NetworkInterfaceType == NetworkInterfaceType.Loopback
                || nic.OperationalStatus is not (OperationalStatus.Up or OperationalStatus.Unknown)
                || !nic.SupportsMulticast
                || (only.Count > 0 && !only.Contains(nic.Name)))
            {
                continue;
            }

            var properties = nic.GetIPProperties();
            int index;
            try
            {
                index = properties.GetIPv6Properties()?.Index ?? properties.GetIPv4Properties()?.Index ?? -1;
            }
            catch (NetworkInformationException)
            {
                continue;
            }

            if (index <= 0)
            {
                continue;
            }

            var addresses = properties.UnicastAddresses
                .Select(u => u.Address)
                .Where(a => a.AddressFamily is AddressFamily.InterNetwork or AddressFamily.InterNetworkV6 && !IPAddress.IsLoopback(a))
                .Select(a => a.AddressFamily == AddressFamily.InterNetworkV6 ? new IPAddress(a.GetAddressBytes()) : a) // the scope is the interface itself
                .ToList();
            found.Add(new LinkInterface(index, nic.Name, addresses));
        }

        return found;
    }

    /// <summary>The interface name for an index, for showing zones as people write them (fe80::1%eth0).</summary>
    public static string? NameOf(long index)
    {
        try
        {
            return NetworkInterface.GetAllNetworkInterfaces()
                .FirstOrDefault(nic => nic.Supports(NetworkInterfaceComponent.IPv6) && nic.GetIPProperties().GetIPv6Properties()?.Index == index)?.Name;
        }
        catch (NetworkInformationException)
        {
            return null;
        }
    }
}
