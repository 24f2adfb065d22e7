using System.Collections.Frozen;
using System.Text;
using System.Text.Unicode;

namespace Gatehouse.Proxy;

/// <summary>
/// Reads a raw query string the way CouchDB's query parser does (mochiweb <c>parse_qs</c>): pairs
/// split on '&amp;' <em>and</em> ';', names and values percent-decoded with '+' as space. Names are
/// matched decoded, so <c>%63allback</c> is <c>callback</c>. What is forwarded is rebuilt from the
/// judged pairs (<see cref="Judge"/>), so no backend can split it another way (issue 17).
/// </summary>
internal static class CouchQuery
{
    /// <summary>No pairs: what most requests have, shared rather than made each time. Callers only read parsed lists.</summary>
    private static readonly List<(string Name, string Value)> NoPairs = [];

    /// <summary>Every (name, value) pair in order; a pair without '=' has an empty value. Null when a name or value is not UTF-8.</summary>
    public static List<(string Name, string Value)>? Parse(string? query)
    {
        if (string.IsNullOrEmpty(query))
        {
            return NoPairs;
        }

        var pairs = new List<(string, string)>();

        // mochiweb ends a pair at ';' as at '&'; Node's qs and Python's parse_qs (since 3.9.2) only at '&'.
        foreach (var range in query.AsSpan().SplitAny('&', ';'))
        {
            var pair = query.AsSpan(range);
            if (pair.IsEmpty)
            {
                continue;
            }

            var equals = pair.IndexOf('=');
            var name = Decode(equals < 0 ? pair : pair[..equals]);
            var value = Decode(equals < 0 ? [] : pair[(equals + 1)..]);
            if (name is null || value is null)
            {
                return null;
            }

            pairs.Add((name, value));
        }

        return pairs;
    }

    /// <summary>
    /// Checks <paramref name="pairs"/> against the names an endpoint accepts and rebuilds the query to
    /// forward: one pair per name, '&amp;'-separated, everything but RFC 3986 unreserved characters
    /// percent-encoded. Returns the reason to refuse (400), or null with <paramref name="forward"/> set
    /// (null when there is nothing to forward).
    /// </summary>
    /// <param name="passUnknown">Names outside <paramref name="accepted"/> pass too (they reach design code, not CouchDB).</param>
    public static string? Judge(List<(string Name, string Value)> pairs, FrozenSet<string> accepted, bool passUnknown, out string? forward)
    {
        forward = null;
        if (pairs.Count == 0)
        {
            return null;
        }

        var builder = new StringBuilder();
        for (var i = 0; i < pairs.Count; i++)
        {
            var (name, value) = pairs[i];
            if (!passUnknown && !accepted.Contains(name))
            {
                return $"query parameter {Printable(name)} is not accepted here";
            }

            var repeated = false;
            for (var j = 0; j < i; j++)
            {
                if (pairs[j].Name == name)
                {
                    if (pairs[j].Value != value)
                    {
                        // CouchDB takes the first of some repeated parameters and the last of others.
                        return $"query parameter {Printable(name)} is repeated with different values";
                    }

                    repeated = true;
                }
            }

            if (repeated)
            {
                continue;
            }

            if (builder.Length > 0)
            {
                builder.Append('&');
            }

            AppendEncoded(builder, name);
            builder.Append('=');
            AppendEncoded(builder, value);
        }

        forward = builder.ToString();
        return null;
    }

    private static string? Decode(ReadOnlySpan<char> text)
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

        // Not UTF-8: a re-encoded U+FFFD would not be the bytes the client sent, so refuse instead.
        var array = bytes.ToArray();
        return Utf8.IsValid(array) ? Encoding.UTF8.GetString(array) : null;
    }

    private static void AppendEncoded(StringBuilder builder, string text)
    {
        Span<byte> utf8 = stackalloc byte[4];
        foreach (var rune in text.EnumerateRunes())
        {
            var count = rune.EncodeToUtf8(utf8);
            for (var i = 0; i < count; i++)
            {
                var b = utf8[i];
                if (IsUnreserved(b))
                {
                    builder.Append((char)b);
                }
                else
                {
                    builder.Append('%').Append("0123456789ABCDEF"[b >> 4]).Append("0123456789ABCDEF"[b & 0xF]);
                }
            }
        }
    }

    private static bool IsUnreserved(byte b) => char.IsAsciiLetterOrDigit((char)b) || b is (byte)'-' or (byte)'.' or (byte)'_' or (byte)'~';

    /// <summary>A name for a 400 body: control characters and quotes would garble the JSON reason or a log line.</summary>
    private static string Printable(string name)
    {
        var builder = new StringBuilder(Math.Min(name.Length, 64));
        foreach (var c in name.Length > 64 ? name[..64] : name)
        {
            builder.Append(char.IsControl(c) || c is '"' or '\\' ? '?' : c);
        }

        return builder.ToString();
    }

    private static bool IsHex(char c) => char.IsAsciiHexDigit(c);

    private static int HexValue(char c) => c <= '9' ? c - '0' : (c | 0x20) - 'a' + 10;
}
