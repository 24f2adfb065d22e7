using System.Globalization;
using System.Net;
using System.Net.NetworkInformation;
using System.Net.Sockets;

namespace Gatehouse.Wire;

/// <summary>One address and port the gate listens on, and how it treats callers there.</summary>
public sealed class ListenEndpoint
{
    /// <summary>Address to bind. <c>::</c> (the default) binds dual-stack, so IPv4 clients arrive as mapped addresses.</summary>
    public IPAddress Address { get; set; } = IPAddress.IPv6Any;

    /// <summary>Port to bind; 0 lets the OS choose (see <see cref="WireServer.BoundEndpoints"/>).</summary>
    public int Port { get; set; }

    /// <summary>True (the default) for TLS; false for plain HTTP, which must bind a loopback address.</summary>
    public bool Tls { get; set; } = true;

    /// <summary>Whether a TLS listener asks for client certificates. Default <see cref="ClientCertificateMode.Required"/>.</summary>
    public ClientCertificateMode ClientCertificate { get; set; } = ClientCertificateMode.Required;

    /// <summary>
    /// On a plain loopback listener, callers are the device's own user (<see cref="Principal.Local"/>)
    /// rather than <see cref="Principal.Anonymous"/>. Ignored on TLS listeners, where the key decides.
    /// </summary>
    public bool Local { get; set; }

    /// <summary>Checks the rules a listener must follow before anything is bound.</summary>
    /// <exception cref="InvalidOperationException">The port is out of range, or a plain listener is not on loopback.</exception>
    public void Validate()
    {
        if (Address is null)
        {
            throw new InvalidOperationException("listener has no address");
        }

        if (Port is < IPEndPoint.MinPort or > IPEndPoint.MaxPort)
        {
            throw new InvalidOperationException($"listener {this}: port must be 0..65535");
        }

        // Plain HTTP carries no key, so anyone who can reach it would be let in unauthenticated
        // (and as the local user when Local is set): only this machine may reach it.
        if (!Tls && !IsLoopback(Address))
        {
            throw new InvalidOperationException($"plain-HTTP listener {this} must bind a loopback address");
        }
    }

    /// <summary><c>address:port</c>, with IPv6 in brackets: <c>0.0.0.0:8080</c>, <c>[::1]:8443</c>.</summary>
    public override string ToString() => Address?.AddressFamily == AddressFamily.InterNetworkV6
        ? $"[{Address}]:{Port.ToString(CultureInfo.InvariantCulture)}"
        : $"{Address}:{Port.ToString(CultureInfo.InvariantCulture)}";

    /// <summary>
    /// Parses a listen or peer address: <c>::</c>, <c>0.0.0.0</c>, <c>127.0.0.1</c>, <c>::1</c>, <c>[::1]</c>,
    /// and IPv6 with a zone, by interface name or number (<c>fe80::1%eth0</c>, <c>fe80::1%2</c>; RFC 6874).
    /// </summary>
    /// <exception cref="FormatException">Not an address, or the zone names no interface on this machine.</exception>
    public static IPAddress ParseAddress(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        ReadOnlySpan<char> span = text.AsSpan().Trim();
        if (span.Length >= 2 && span[0] == '[' && span[^1] == ']')
        {
            span = span[1..^1];
        }

        if (span.IsEmpty)
        {
            throw new FormatException("empty address");
        }

        if (span.Contains(':'))
        {
            return ParseIPv6(text, span);
        }

        // IPAddress.Parse also takes "8080" (0.0.31.144) and "127.1"; in a config file those are typos,
        // so IPv4 must be the four dotted decimal parts.
        if (!IsDottedQuad(span) || !IPAddress.TryParse(span, out IPAddress? v4))
        {
            throw new FormatException($"'{text}' is not an IP address (expected e.g. 0.0.0.0, 127.0.0.1, ::, ::1 or fe80::1%eth0)");
        }

        return v4;
    }

    /// <summary>True for 127.0.0.0/8, ::1, and IPv4 loopback mapped into IPv6 (::ffff:127.0.0.1).</summary>
    internal static bool IsLoopback(IPAddress address) =>
        IPAddress.IsLoopback(address) || (address.IsIPv4MappedToIPv6 && IPAddress.IsLoopback(address.MapToIPv4()));

    private static IPAddress ParseIPv6(string original, ReadOnlySpan<char> span)
    {
        int percent = span.IndexOf('%');
        ReadOnlySpan<char> host = percent < 0 ? span : span[..percent];
        if (!IPAddress.TryParse(host, out IPAddress? address) || address.AddressFamily != AddressFamily.InterNetworkV6)
        {
            throw new FormatException($"'{original}' is not an IP address (expected e.g. ::, ::1 or fe80::1%eth0)");
        }

        if (percent < 0)
        {
            return address;
        }

        ReadOnlySpan<char> zone = span[(percent + 1)..];
        if (zone.IsEmpty)
        {
            throw new FormatException($"'{original}': empty zone after '%'");
        }

        // IPAddress.Parse on Linux resolves known interface names but silently drops unknown ones
        // (scope 0), which would bind or connect on the wrong link; so the zone is resolved here.
        address.ScopeId = uint.TryParse(zone, NumberStyles.None, CultureInfo.InvariantCulture, out uint number)
            ? number
            : InterfaceIndex(original, zone.ToString());
        return address;
    }

    private static uint InterfaceIndex(string original, string name)
    {
        NetworkInterface[] interfaces;
        try
        {
            interfaces = NetworkInterface.GetAllNetworkInterfaces();
        }
        catch (NetworkInformationException ex)
        {
            throw new FormatException($"'{original}': cannot list network interfaces to resolve '{name}'", ex);
        }

        foreach (NetworkInterface candidate in interfaces)
        {
            if (!string.Equals(candidate.Name, name, StringComparison.Ordinal))
            {
                continue;
            }

            try
            {
                IPv6InterfaceProperties? properties = candidate.GetIPProperties().GetIPv6Properties();
                if (properties is not null)
                {
                    return (uint)properties.Index;
                }
            }
            catch (NetworkInformationException ex)
            {
                throw new FormatException($"'{original}': interface '{name}' has no IPv6", ex);
            }

            throw new FormatException($"'{original}': interface '{name}' has no IPv6");
        }

        throw new FormatException($"'{original}': no network interface named '{name}'");
    }

    private static bool IsDottedQuad(ReadOnlySpan<char> span)
    {
        int parts = 0;
        foreach (Range range in span.Split('.'))
        {
            ReadOnlySpan<char> part = span[range];
            if (part.IsEmpty || part.Length > 3 || part.ContainsAnyExceptInRange('0', '9'))
            {
                return false;
            }

            parts++;
        }

        return parts == 4;
    }
}
