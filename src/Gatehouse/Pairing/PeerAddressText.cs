using System.Globalization;
using System.Net;
using System.Net.NetworkInformation;
using System.Net.Sockets;

namespace Gatehouse.Pairing;

/// <summary>
/// Writes an address the way the peer table takes it (<c>1.2.3.4:8443</c>, <c>[fe80::1%eth0]:8443</c>):
/// a link-local address keeps its zone, by interface name where one is known, since without it the
/// address cannot be reached (RFC 6874) — a bare cable has nothing else.
/// </summary>
internal static class PeerAddressText
{
    public static string Format(EndPoint endPoint, int port) => endPoint switch
    {
        DnsEndPoint dns => dns.Host + ":" + port.ToString(CultureInfo.InvariantCulture),
        IPEndPoint ip => Format(ip.Address, port),
        _ => throw new ArgumentException("not an IP or DNS endpoint", nameof(endPoint)),
    };

    public static string Format(IPAddress address, int port)
    {
        var portText = port.ToString(CultureInfo.InvariantCulture);
        if (address.IsIPv4MappedToIPv6)
        {
            address = address.MapToIPv4(); // a dual-stack listener sees IPv4 peers as ::ffff:a.b.c.d
        }

        if (address.AddressFamily != AddressFamily.InterNetworkV6)
        {
            return address + ":" + portText;
        }

        var bare = new IPAddress(address.GetAddressBytes());
        return address.ScopeId == 0 ? $"[{bare}]:{portText}" : $"[{bare}%{ZoneName(address.ScopeId)}]:{portText}";
    }

    private static string ZoneName(long scopeId)
    {
        foreach (var network in NetworkInterface.GetAllNetworkInterfaces())
        {
            if (network.Supports(NetworkInterfaceComponent.IPv6) && network.GetIPProperties().GetIPv6Properties()?.Index == scopeId)
            {
                return network.Name;
            }
        }

        return scopeId.ToString(CultureInfo.InvariantCulture);
    }
}
