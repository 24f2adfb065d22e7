using System.Net;

namespace Gatehouse.Discovery;

/// <summary>What a running discovery announces and where: built once at start from the config and the bound listener.</summary>
/// <param name="DeviceName">The short name in the instance and TXT <c>name=</c>.</param>
/// <param name="Pin">The server key's pin, TXT <c>pin=</c>: what a peer link will check.</param>
/// <param name="Port">The bound port of the TLS listener peers dial; 0 when there is none to announce.</param>
/// <param name="ListenAddress">That listener's address: <c>::</c> announces every address, <c>0.0.0.0</c> the IPv4 ones, anything else only itself.</param>
/// <param name="Announce">False: browse only.</param>
/// <param name="Interfaces">Interface names to use; empty: every multicast interface that is up.</param>
internal sealed record DiscoveryOptions(string DeviceName, string Pin, int Port, IPAddress ListenAddress, bool Announce, IReadOnlyCollection<string> Interfaces)
{
    /// <summary>The DNS-SD service announced and browsed: the gateway's, or pairing's (<see cref="GatehouseService.PairingServiceType"/>).</summary>
    public DnsName ServiceType { get; init; } = GatehouseService.ServiceType;

    /// <summary>Also record announcements carrying <see cref="Pin"/> (our own, looped back): how <c>gatehouse pair</c> learns its own gateway's port.</summary>
    public bool IncludeSelf { get; init; }

    /// <summary>How often the interface list is read again, so a cable plugged back in is announced within seconds.</summary>
    public TimeSpan RescanEvery { get; init; } = TimeSpan.FromSeconds(2);

    /// <summary>How often a browser asks again; under the 120 s TTL so a live gateway never expires.</summary>
    public TimeSpan QueryEvery { get; init; } = TimeSpan.FromSeconds(60);

    /// <summary>Which of an interface's addresses this gateway can be reached at there.</summary>
    public IEnumerable<IPAddress> Reachable(LinkInterface link) => link.Addresses.Where(address =>
        ListenAddress.Equals(IPAddress.IPv6Any) ? true
        : ListenAddress.Equals(IPAddress.Any) ? address.AddressFamily == System.Net.Sockets.AddressFamily.InterNetwork
        : address.Equals(new IPAddress(ListenAddress.GetAddressBytes())));
}
