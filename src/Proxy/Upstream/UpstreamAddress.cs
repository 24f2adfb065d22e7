using System.Globalization;
using System.Net;
using System.Net.Sockets;
using Gatehouse.Wire;

namespace Gatehouse.Proxy;

/// <summary>
/// A peer address as written in config: <c>host:port</c>, <c>192.0.2.1:8443</c>, <c>[2001:db8::1]:8443</c>
/// or <c>[fe80::1%eth0]:8443</c> (issue 8). Parsed by hand because <see cref="Uri"/> drops IPv6 zones,
/// and a link-local peer cannot be reached without one (RFC 6874).
/// </summary>
public static class UpstreamAddress
{
    /// <summary>Parses <paramref name="text"/> into an <see cref="IPEndPoint"/> (literals) or a <see cref="DnsEndPoint"/> (names).</summary>
    /// <exception cref="FormatException">No port, a bad port, a bad literal, or a zone naming no interface here.</exception>
    public static EndPoint Parse(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var span = text.AsSpan().Trim();
        ReadOnlySpan<char> host;
        ReadOnlySpan<char> port;
        if (span.StartsWith('['))
        {
            var close = span.IndexOf(']');
            if (close < 0 || close + 1 >= span.Length || span[close + 1] != ':')
            {
                throw new FormatException($"'{text}': write an IPv6 address as [address]:port, e.g. [fe80::1%eth0]:8443");
            }

            host = span[..(close + 1)];
            port = span[(close + 2)..];
        }
        else
        {
            var colon = span.LastIndexOf(':');
            if (colon < 0 || span.IndexOf(':') != colon)
            {
                throw new FormatException($"'{text}': expected host:port (IPv6 in brackets: [::1]:8443)");
            }

            host = span[..colon];
            port = span[(colon + 1)..];
        }

        if (!int.TryParse(port, NumberStyles.None, CultureInfo.InvariantCulture, out var portNumber) || portNumber is < 1 or > 65535)
        {
            throw new FormatException($"'{text}': the port must be 1..65535");
        }

        if (host.IsEmpty)
        {
            throw new FormatException($"'{text}': no host");
        }

        if (host[0] == '[' || IsDottedQuadLike(host))
        {
            // "%25" is the URI spelling of the zone separator (RFC 6874 §2); accept it too.
            var literal = host.ToString().Replace("%25", "%", StringComparison.Ordinal);
            return new IPEndPoint(ListenEndpoint.ParseAddress(literal), portNumber);
        }

        if (Uri.CheckHostName(host.ToString()) != UriHostNameType.Dns)
        {
            throw new FormatException($"'{text}': '{host}' is neither an IP address nor a host name");
        }

        return new DnsEndPoint(host.ToString(), portNumber);
    }

    /// <summary>The Host value for an address: the literal without its zone (RFC 6874 §4: zones never go on the wire).</summary>
    internal static string Authority(EndPoint endPoint) => endPoint switch
    {
        IPEndPoint { AddressFamily: AddressFamily.InterNetworkV6 } v6 =>
            "[" + new IPAddress(v6.Address.GetAddressBytes()) + "]:" + v6.Port.ToString(CultureInfo.InvariantCulture),
        IPEndPoint v4 => v4.Address + ":" + v4.Port.ToString(CultureInfo.InvariantCulture),
        DnsEndPoint dns => dns.Host + ":" + dns.Port.ToString(CultureInfo.InvariantCulture),
        _ => "localhost",
    };

    /// <summary>The address as a person reads it, zone included (for logs).</summary>
    internal static string Display(EndPoint endPoint) => endPoint switch
    {
        IPEndPoint { AddressFamily: AddressFamily.InterNetworkV6 } v6 => "[" + v6.Address + "]:" + v6.Port.ToString(CultureInfo.InvariantCulture),
        IPEndPoint v4 => v4.Address + ":" + v4.Port.ToString(CultureInfo.InvariantCulture),
        DnsEndPoint dns => dns.Host + ":" + dns.Port.ToString(CultureInfo.InvariantCulture),
        _ => endPoint.ToString() ?? string.Empty,
    };

    /// <summary>Digits and dots only: meant as IPv4, so a typo is an error rather than a DNS lookup.</summary>
    private static bool IsDottedQuadLike(ReadOnlySpan<char> host) => !host.ContainsAnyExcept("0123456789.");
}
