namespace Gatehouse.Http1;

/// <summary>
/// Host = uri-host [ ":" port ] (RFC 9110 §7.2): a reg-name, IPv4 or bracketed IPv6 literal.
/// Userinfo, paths, lists and whitespace are refused (they are how Host confusion attacks start).
/// </summary>
internal static class HostValidator
{
    public static bool IsValid(ReadOnlySpan<byte> host)
    {
        if (host.IsEmpty || host.IndexOfAnyExcept(HttpCharacters.HostChar) >= 0)
        {
            return false;
        }

        ReadOnlySpan<byte> port;
        if (host[0] == (byte)'[')
        {
            var close = host.IndexOf((byte)']');
            if (close < 2 || host[1..close].IndexOfAny((byte)'[', (byte)']') >= 0)
            {
                return false;
            }

            var rest = host[(close + 1)..];
            if (rest.IsEmpty)
            {
                return true;
            }

            if (rest[0] != (byte)':')
            {
                return false;
            }

            port = rest[1..];
        }
        else
        {
            if (host.IndexOfAny((byte)'[', (byte)']') >= 0)
            {
                return false;
            }

            var colon = host.IndexOf((byte)':');
            if (colon < 0)
            {
                return true;
            }

            if (colon == 0)
            {
                return false;
            }

            port = host[(colon + 1)..];
        }

        if (port.Length is 0 or > 5 || port.ContainsAnyExceptInRange((byte)'0', (byte)'9'))
        {
            return false;
        }

        var number = 0;
        foreach (var digit in port)
        {
            number = (number * 10) + (digit - '0');
        }

        return number <= 65535;
    }
}
