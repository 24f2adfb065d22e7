using System.Text;

namespace Gatehouse.Proxy;

/// <summary>
/// Reads a raw query string the way CouchDB's query parser does (mochiweb <c>parse_qs</c>):
/// pairs split on '&amp;', names and values percent-decoded with '+' as space. Names are matched
/// decoded, so <c>%63allback</c> is <c>callback</c>.
/// </summary>
internal static class CouchQuery
{
    /// <summary>Every (name, value) pair in order; a pair without '=' has an empty value.</summary>
    public static List<(string Name, string Value)> Parse(string? query)
    {
        var pairs = new List<(string, string)>();
        if (string.IsNullOrEmpty(query))
        {
            return pairs;
        }

        foreach (var range in query.AsSpan().Split('&'))
        {
            var pair = query.AsSpan(range);
            if (pair.IsEmpty)
            {
                continue;
            }

            var equals = pair.IndexOf('=');
            var name = equals < 0 ? pair : pair[..equals];
            var value = equals < 0 ? [] : pair[(equals + 1)..];
            pairs.Add((Decode(name), Decode(value)));
        }

        return pairs;
    }

    private static string Decode(ReadOnlySpan<char> text)
    {
        if (text.IndexOfAny('%', '+') < 0)
        {
            return text.ToString();
        }

        var bytes = new List<byte>(text.Length);
        for (var i = 0; i < text.Length; i++)
        {
            var c = text[i];
            if (c == '+')
            {
                bytes.Add((byte)' ');
            }
            else if (c == '%' && i + 2 < text.Length && IsHex(text[i + 1]) && IsHex(text[i + 2]))
            {
                bytes.Add((byte)((HexValue(text[i + 1]) << 4) | HexValue(text[i + 2])));
                i += 2;
            }
            else
            {
                bytes.Add((byte)c);
            }
        }

        // Invalid UTF-8 decodes to U+FFFD, which matches no name we look for.
        return Encoding.UTF8.GetString([.. bytes]);
    }

    private static bool IsHex(char c) => char.IsAsciiHexDigit(c);

    private static int HexValue(char c) => c <= '9' ? c - '0' : (c | 0x20) - 'a' + 10;
}
