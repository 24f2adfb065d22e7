using System.Globalization;
using System.Net;
using Gatehouse.Wire;

namespace Gatehouse.Http1.WebSockets;

/// <summary>
/// A <c>wss://</c> URL taken apart by hand: <see cref="Uri"/> drops or mangles IPv6 zones, and a
/// link-local peer (<c>wss://[fe80::1%25eth0]:8443/</c>, RFC 6874) needs its zone to be reached at all.
/// </summary>
internal sealed record WssAddress(string Host, IPAddress? Literal, int Port, string PathAndQuery)
{
    public const int DefaultPort = 443;

    /// <summary>The Host header: the literal without its zone (RFC 6874 §4: zones never go on the wire).</summary>
    public string HostHeader
    {
        get
        {
            var host = Literal is { AddressFamily: System.Net.Sockets.AddressFamily.InterNetworkV6 } v6
                ? "[" + new IPAddress(v6.GetAddressBytes()) + "]"
                : Host;
            return Port == DefaultPort ? host : host + ":" + Port.ToString(CultureInfo.InvariantCulture);
        }
    }

    /// <exception cref="ArgumentException">Not an absolute wss:// URL with a valid host and port.</exception>
    public static WssAddress Parse(Uri uri)
    {
        ArgumentNullException.ThrowIfNull(uri);
        var text = uri.IsAbsoluteUri ? uri.OriginalString.Trim() : throw new ArgumentException("the URL must be absolute", nameof(uri));
        const string scheme = "wss://";
        if (!text.StartsWith(scheme, StringComparison.OrdinalIgnoreCase))
        {
            throw new ArgumentException($"'{text}': only wss:// is supported (the stream is TLS-only)", nameof(uri));
        }

        var rest = text.AsSpan(scheme.Length);
        var end = rest.IndexOfAny("/?#");
        var authority = end < 0 ? rest : rest[..end];
        var pathAndQuery = end < 0 ? "/" : rest[end..].ToString();
        var fragment = pathAndQuery.IndexOf('#', StringComparison.Ordinal);
        if (fragment >= 0)
        {
            pathAndQuery = pathAndQuery[..fragment];
        }

        if (pathAndQuery.StartsWith('?'))
        {
            pathAndQuery = "/" + pathAndQuery;
        }

        if (authority.Contains('@'))
        {
            throw new ArgumentException($"'{text}': user info is not supported", nameof(uri));
        }

        ReadOnlySpan<char> host;
        ReadOnlySpan<char> port = default;
        IPAddress? literal = null;
        if (authority.StartsWith('['))
        {
            var close = authority.IndexOf(']');
            if (close < 0)
            {
                throw new ArgumentException($"'{text}': unclosed '['", nameof(uri));
            }

            host = authority[1..close];
            var after = authority[(close + 1)..];
            if (!after.IsEmpty)
            {
                port = after[0] == ':' ? after[1..] : throw new ArgumentException($"'{text}': junk after ']'", nameof(uri));
            }

            // RFC 6874 §2: the '%' before a zone is itself percent-encoded in a URI ("%25").
            var zoneText = host.ToString().Replace("%25", "%", StringComparison.Ordinal);
            literal = Parse(text, zoneText, uri);
            host = zoneText;
        }
        else
        {
            var colon = authority.LastIndexOf(':');
            host = colon < 0 ? authority : authority[..colon];
            port = colon < 0 ? default : authority[(colon + 1)..];
            if (IPAddress.TryParse(host, out var v4) && host.Count('.') == 3)
            {
                literal = v4;
            }
        }

        if (host.IsEmpty)
        {
            throw new ArgumentException($"'{text}': no host", nameof(uri));
        }

        var portNumber = DefaultPort;
        if (!port.IsEmpty && (!int.TryParse(port, NumberStyles.None, CultureInfo.InvariantCulture, out portNumber) || portNumber is < 1 or > 65535))
        {
            throw new ArgumentException($"'{text}': bad port", nameof(uri));
        }

        return new WssAddress(host.ToString(), literal, portNumber, pathAndQuery);
    }

    private static IPAddress Parse(string text, string host, Uri uri)
    {
        try
        {
            return ListenEndpoint.ParseAddress(host);
        }
        catch (FormatException ex)
        {
            throw new ArgumentException($"'{text}': {ex.Message}", nameof(uri), ex);
        }
    }
}
