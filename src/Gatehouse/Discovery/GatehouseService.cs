using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using Gatehouse.Wire;

namespace Gatehouse.Discovery;

/// <summary>What one gateway says about itself on one interface: its DNS-SD name, pin, port and addresses there.</summary>
internal sealed record Announcement(string DeviceName, string Pin, int Port, IReadOnlyList<IPAddress> Addresses, uint Ttl);

/// <summary>
/// The <c>_gatehouse._tcp</c> DNS-SD service (RFC 6763): how a gateway's announcement becomes records
/// and how records become a seen gateway. The instance is "DEVICE-NAME._gatehouse._tcp.local", its
/// SRV names a host "gatehouse-HEX.local" made from the pin (unique per key, so two devices of the
/// same name do not claim one host name), and the TXT carries <c>pin=</c> and <c>name=</c>.
/// </summary>
internal static class GatehouseService
{
    /// <summary>RFC 6762 §10: 120 s for records a host's addresses change under.</summary>
    public const uint Ttl = 120;

    public static DnsName ServiceType { get; } = DnsName.Parse("_gatehouse._tcp.local");

    /// <summary>
    /// A device in <c>gatehouse pair</c> (issue 21): announced only while the person has it waiting
    /// to pair, with the pairing listener's port, so the other device finds it with nothing typed.
    /// </summary>
    public static DnsName PairingServiceType { get; } = DnsName.Parse("_gatehouse-pair._tcp.local");

    private static DnsName Local { get; } = DnsName.Parse("local");

    public static DnsName InstanceName(string deviceName, DnsName? serviceType = null) => (serviceType ?? ServiceType).Prepend(deviceName);

    /// <summary>"gatehouse-" and the first 6 bytes of the key hash in hex.</summary>
    public static DnsName HostName(string pin)
    {
        var hash = SHA256.HashData(System.Text.Encoding.ASCII.GetBytes(pin));
        return Local.Prepend("gatehouse-" + Convert.ToHexStringLower(hash.AsSpan(0, 6)));
    }

    /// <summary>The answer to a browse: PTR, then SRV, TXT and the addresses (RFC 6763 §12 additional records, sent as answers).</summary>
    public static List<DnsRecord> Records(Announcement announcement, DnsName? serviceType = null)
    {
        serviceType ??= ServiceType;
        var instance = InstanceName(announcement.DeviceName, serviceType);
        var host = HostName(announcement.Pin);
        var records = new List<DnsRecord>
        {
            new PtrRecord(serviceType, announcement.Ttl, instance),
            new SrvRecord(instance, announcement.Ttl, CacheFlush: true, 0, 0, (ushort)announcement.Port, host),
            new TxtRecord(instance, announcement.Ttl, CacheFlush: true, ["txtvers=1", "pin=" + announcement.Pin, "name=" + announcement.DeviceName]),
        };
        records.AddRange(announcement.Addresses.Select(address => new AddressRecord(host, announcement.Ttl, CacheFlush: true, address)));
        return records;
    }

    /// <summary>True when a query asks for the service, or for this gateway's instance or host by name.</summary>
    public static bool Asks(DnsMessage query, string deviceName, string pin, DnsName? serviceType = null)
    {
        serviceType ??= ServiceType;
        var instance = InstanceName(deviceName, serviceType);
        var host = HostName(pin);
        return query.Questions.Any(q =>
            (q.Name.Equals(serviceType) && q.Type is DnsType.Ptr or DnsType.Any)
            || (q.Name.Equals(instance) && q.Type is DnsType.Srv or DnsType.Txt or DnsType.Any)
            || (q.Name.Equals(host) && q.Type is DnsType.A or DnsType.Aaaa or DnsType.Any));
    }

    /// <summary>
    /// Every gateway a response announces, with its addresses as reachable from
    /// <paramref name="interfaceIndex"/> (link-local ones get that interface as their zone). An
    /// instance whose SRV, TXT, pin or name is missing or malformed is left out; a record set with
    /// TTL 0 is a goodbye (RFC 6762 §10.1), reported with <see cref="Announcement.Ttl"/> 0.
    /// </summary>
    public static List<Announcement> Read(DnsMessage response, int interfaceIndex, DnsName? serviceType = null)
    {
        serviceType ??= ServiceType;
        var found = new List<Announcement>();
        foreach (var ptr in response.Records.OfType<PtrRecord>().Where(p => p.Name.Equals(serviceType)))
        {
            var srv = response.Records.OfType<SrvRecord>().FirstOrDefault(r => r.Name.Equals(ptr.Target));
            var txt = response.Records.OfType<TxtRecord>().FirstOrDefault(r => r.Name.Equals(ptr.Target));
            if (srv is null || txt is null || srv.Port == 0)
            {
                continue;
            }

            var pin = txt.Value("pin");
            var name = txt.Value("name");
            if (pin is null || !KeyPin.IsWellFormed(pin) || name is null || !DeviceName.IsValid(name))
            {
                continue;
            }

            var addresses = response.Records.OfType<AddressRecord>()
                .Where(r => r.Name.Equals(srv.Target) && IsUsable(r.Address))
                .Select(r => Scoped(r.Address, interfaceIndex))
                .Distinct()
                .Take(SeenGateways.MaxAddressesPerGateway)
                .ToList();
            var ttl = Math.Min(Math.Min(ptr.Ttl, srv.Ttl), txt.Ttl);
            found.Add(new Announcement(name, pin, srv.Port, addresses, ttl));
        }

        return found;
    }

    /// <summary>Only addresses a peer link could dial: no loopback, multicast, unspecified or mapped ones.</summary>
    private static bool IsUsable(IPAddress address) =>
        !IPAddress.IsLoopback(address)
        && !address.Equals(IPAddress.Any) && !address.Equals(IPAddress.IPv6Any)
        && !address.IsIPv6Multicast && !address.IsIPv4MappedToIPv6
        && !(address.AddressFamily == AddressFamily.InterNetwork && address.GetAddressBytes()[0] >= 224);

    /// <summary>RFC 4007 §6: a link-local address means something only with its interface.</summary>
    private static IPAddress Scoped(IPAddress address, int interfaceIndex) =>
        address.IsIPv6LinkLocal ? new IPAddress(address.GetAddressBytes(), interfaceIndex) : address;
}
