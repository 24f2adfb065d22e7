using System.Net;

namespace Gatehouse.Discovery;

/// <summary>The record types discovery reads and writes (RFC 1035 §3.2.2, RFC 2782, RFC 3596).</summary>
internal enum DnsType : ushort
{
    A = 1,
    Ptr = 12,
    Txt = 16,
    Aaaa = 28,
    Srv = 33,
    Any = 255,
}

/// <summary>A question of a multicast DNS query (RFC 6762 §5.4: the class's top bit asks for a unicast answer).</summary>
internal sealed record DnsQuestion(DnsName Name, DnsType Type);

/// <summary>
/// One resource record of a type discovery uses; other types are skipped while reading. The class's
/// top bit is RFC 6762 §10.2's cache-flush flag, kept apart from the class.
/// </summary>
internal abstract record DnsRecord(DnsName Name, uint Ttl, bool CacheFlush)
{
    public abstract DnsType Type { get; }
}

internal sealed record PtrRecord(DnsName Name, uint Ttl, DnsName Target) : DnsRecord(Name, Ttl, CacheFlush: false)
{
    public override DnsType Type => DnsType.Ptr;
}

internal sealed record SrvRecord(DnsName Name, uint Ttl, bool CacheFlush, ushort Priority, ushort Weight, ushort Port, DnsName Target) : DnsRecord(Name, Ttl, CacheFlush)
{
    public override DnsType Type => DnsType.Srv;
}

/// <summary>RFC 6763 §6: a TXT record of key=value strings, each at most 255 bytes.</summary>
internal sealed record TxtRecord(DnsName Name, uint Ttl, bool CacheFlush, IReadOnlyList<string> Strings) : DnsRecord(Name, Ttl, CacheFlush)
{
    public override DnsType Type => DnsType.Txt;

    /// <summary>RFC 6763 §6.4: keys compare case-insensitively and the first occurrence wins.</summary>
    public string? Value(string key)
    {
        foreach (var entry in Strings)
        {
            var equals = entry.IndexOf('=', StringComparison.Ordinal);
            if (equals > 0 && entry.AsSpan(0, equals).Equals(key, StringComparison.OrdinalIgnoreCase))
            {
                return entry[(equals + 1)..];
            }
        }

        return null;
    }
}

/// <summary>An A or AAAA record; the type follows the address family.</summary>
internal sealed record AddressRecord(DnsName Name, uint Ttl, bool CacheFlush, IPAddress Address) : DnsRecord(Name, Ttl, CacheFlush)
{
    public override DnsType Type => Address.AddressFamily == System.Net.Sockets.AddressFamily.InterNetworkV6 ? DnsType.Aaaa : DnsType.A;
}

/// <summary>A parsed message: the header's id and QR bit, the questions, and every record of the three record sections.</summary>
internal sealed record DnsMessage(ushort Id, bool IsResponse, IReadOnlyList<DnsQuestion> Questions, IReadOnlyList<DnsRecord> Records);
