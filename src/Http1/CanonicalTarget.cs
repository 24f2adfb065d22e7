using System.Buffers;
using System.Text;
using System.Text.Unicode;

namespace Gatehouse.Http1;

/// <summary>
/// The request target decoded once (DESIGN.md decision 2): path segments percent-decoded and
/// validated, the query kept verbatim. Policy and routing read the segments; the forwarder
/// re-serializes from them with <see cref="ToOriginForm"/>, never from the raw bytes, so what a
/// backend receives is exactly what was judged.
/// </summary>
/// <remarks>
/// Refused (400): dot segments (raw or encoded), empty segments ("//"), malformed or NUL/control
/// percent-escapes, bytes outside RFC 3986 pchar, invalid UTF-8 after decoding, fragments.
/// A single trailing slash is kept as <see cref="HasTrailingSlash"/> since CouchDB and most web
/// apps give it meaning. "%2F" stays inside its segment and is re-encoded on the way out.
/// </remarks>
public sealed class CanonicalTarget
{
    private static readonly string[] NoSegments = [];

    [ThreadStatic]
    private static StringBuilder? t_builder;

    private readonly string[] _segments;

    private CanonicalTarget(string[] segments, bool trailingSlash, string? query, string? authority, bool isAsterisk)
    {
        _segments = segments;
        HasTrailingSlash = trailingSlash;
        Query = query;
        Authority = authority;
        IsAsterisk = isAsterisk;
    }

    /// <summary>The decoded path segments; empty for "/".</summary>
    public IReadOnlyList<string> Segments => _segments;

    /// <summary><see cref="Segments"/> as a span: a slice of it (a route's tail) costs no copy.</summary>
    public ReadOnlySpan<string> SegmentSpan => _segments;

    /// <summary>The path ended in "/" after its last segment.</summary>
    public bool HasTrailingSlash { get; }

    /// <summary>The query without its '?', verbatim (validated, not decoded), or null when there was none.</summary>
    public string? Query { get; }

    /// <summary>The authority of an absolute-form target (RFC 9112 §3.2.2), which then stands for Host.</summary>
    public string? Authority { get; }

    /// <summary>The asterisk-form target of <c>OPTIONS *</c>.</summary>
    public bool IsAsterisk { get; }

    /// <summary>The decoded path for logs and display ("/a/b"); not for forwarding.</summary>
    public string Path
    {
        get
        {
            var buffer = new char[128];
            int written;
            while (!TryWritePath(buffer, out written))
            {
                buffer = new char[buffer.Length * 2];
            }

            return new string(buffer, 0, written);
        }
    }

    /// <summary><see cref="Path"/> written into <paramref name="destination"/> without making the string (the access log's); false when it does not fit.</summary>
    public bool TryWritePath(Span<char> destination, out int written)
    {
        written = 0;
        if (IsAsterisk)
        {
            return Put(destination, "*", ref written);
        }

        if (!Put(destination, "/", ref written))
        {
            return false;
        }

        for (var i = 0; i < _segments.Length; i++)
        {
            if ((i > 0 && !Put(destination, "/", ref written)) || !Put(destination, _segments[i], ref written))
            {
                return false;
            }
        }

        return !(HasTrailingSlash && _segments.Length > 0) || Put(destination, "/", ref written);

        static bool Put(Span<char> destination, ReadOnlySpan<char> text, ref int written)
        {
            if (!text.TryCopyTo(destination[written..]))
            {
                return false;
            }

            written += text.Length;
            return true;
        }
    }

    /// <summary>
    /// <c>Path == path</c> without building <see cref="Path"/>: the router asks this of every
    /// request for the gateway's own endpoints, where a string per question would be waste (issue 9).
    /// </summary>
    public bool PathEquals(string path)
    {
        if (IsAsterisk)
        {
            return path == "*";
        }

        var rest = path.AsSpan();
        for (var i = 0; i < Segments.Count; i++) // by index: foreach over the interface boxes an enumerator
        {
            var segment = Segments[i];
            if (rest.IsEmpty || rest[0] != '/' || !rest[1..].StartsWith(segment, StringComparison.Ordinal))
            {
                return false;
            }

            rest = rest[(1 + segment.Length)..];
        }

        // "/" alone for no segments; a trailing "/" only after a segment (as Path writes it).
        return Segments.Count == 0 || HasTrailingSlash ? rest is "/" : rest.IsEmpty;
    }

    /// <summary>True when the first segments equal <paramref name="prefix"/> (ordinal).</summary>
    public bool StartsWith(IReadOnlyList<string> prefix)
    {
        if (prefix.Count > Segments.Count)
        {
            return false;
        }

        for (var i = 0; i < prefix.Count; i++)
        {
            if (!string.Equals(Segments[i], prefix[i], StringComparison.Ordinal))
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>
    /// Re-serializes the target in origin-form, leaving out the first <paramref name="skipSegments"/>
    /// segments (a route's mount prefix). Every segment is re-encoded from its decoded form.
    /// </summary>
    public string ToOriginForm(int skipSegments = 0) => ToOriginForm(skipSegments, Query);

    /// <summary>
    /// As <see cref="ToOriginForm(int)"/>, with <paramref name="query"/> (no '?'; null for none) in
    /// place of the client's: a handler that judged the query parameters forwards what it rebuilt.
    /// </summary>
    public string ToOriginForm(int skipSegments, string? query)
    {
        if (IsAsterisk)
        {
            return "*";
        }

        // One builder per thread, reused: a forward's target is its only per-request product.
        var builder = t_builder ?? new StringBuilder(64);
        t_builder = null;
        builder.Clear();
        for (var i = skipSegments; i < Segments.Count; i++)
        {
            builder.Append('/');
            AppendEncoded(builder, Segments[i]);
        }

        if (builder.Length == 0 || (HasTrailingSlash && Segments.Count > skipSegments))
        {
            builder.Append('/');
        }

        if (query is not null)
        {
            builder.Append('?').Append(query);
        }

        var text = builder.ToString();
        if (builder.Capacity <= 4096)
        {
            t_builder = builder;
        }

        return text;
    }

    public override string ToString() => ToOriginForm();

    /// <summary>Parses a request-target; throws <see cref="RequestRejectedException"/> (InvalidTarget) when it is not canonical.</summary>
    public static CanonicalTarget Parse(ReadOnlySpan<byte> target) => Parse(target, previous: null);

    /// <summary>
    /// Parses a request-target, taking from <paramref name="previous"/> (the connection's last
    /// target) every segment and query whose bytes are the same, and <paramref name="previous"/>
    /// itself when all of it is (a target is immutable, so sharing is safe): a keep-alive client
    /// asking under the same prefix, or for the same resource again, costs no strings (issue 9).
    /// </summary>
    internal static CanonicalTarget Parse(ReadOnlySpan<byte> target, CanonicalTarget? previous)
    {
        if (target.Length == 1 && target[0] == (byte)'*')
        {
            return new CanonicalTarget(NoSegments, false, null, null, isAsterisk: true);
        }

        string? authority = null;
        if (target.Length > 0 && target[0] != (byte)'/')
        {
            target = SplitAbsoluteForm(target, out authority);
        }

        var queryStart = target.IndexOf((byte)'?');
        var path = queryStart < 0 ? target : target[..queryStart];
        string? query = null;
        if (queryStart >= 0)
        {
            var rawQuery = target[(queryStart + 1)..];
            // The same bytes were validated for the previous target.
            query = previous?.Query is { } priorQuery && Ascii.Equals(rawQuery, priorQuery) ? priorQuery : ValidateQuery(rawQuery);
        }

        if (path.Length == 0 || path[0] != (byte)'/' || path.IndexOfAnyExcept(HttpCharacters.PathChar) >= 0)
        {
            Reject();
        }

        var body = path[1..];
        var trailingSlash = false;
        if (body.Length > 0 && body[^1] == (byte)'/')
        {
            trailingSlash = true;
            body = body[..^1];
        }

        if (body.Length == 0)
        {
            if (trailingSlash)
            {
                Reject(); // "//": the lone trailing slash hid an empty segment.
            }

            return new CanonicalTarget(NoSegments, trailingSlash, query, authority, isAsterisk: false);
        }

        var count = body.Count((byte)'/') + 1;
        var priorSegments = previous is { IsAsterisk: false } ? previous._segments : NoSegments;
        var same = priorSegments.Length == count && previous!.HasTrailingSlash == trailingSlash
            && ReferenceEquals(previous.Query, query) && previous.Authority == authority;
        string[]? segments = null; // made at the first difference from the previous target
        var index = 0;
        foreach (var range in body.Split((byte)'/'))
        {
            var raw = body[range];
            var prior = index < priorSegments.Length ? priorSegments[index] : null;
            // Only an escape-free segment equals its decoded form byte for byte.
            var segment = prior is not null && raw.IndexOf((byte)'%') < 0 && Ascii.Equals(raw, prior) ? prior : DecodeSegment(raw);
            if (same && !ReferenceEquals(segment, prior))
            {
                same = false;
                segments = new string[count];
                for (var i = 0; i < index; i++)
                {
                    segments[i] = priorSegments[i];
                }
            }

            if (!same)
            {
                (segments ??= new string[count])[index] = segment;
            }

            index++;
        }

        return same ? previous! : new CanonicalTarget(segments!, trailingSlash, query, authority, isAsterisk: false);
    }

    private static ReadOnlySpan<byte> SplitAbsoluteForm(ReadOnlySpan<byte> target, out string authority)
    {
        // RFC 9112 §3.2.2: a server MUST accept absolute-form; only http(s), and no userinfo.
        int schemeLength;
        if (target.Length > 7 && Ascii.EqualsIgnoreCase(target[..7], "http://"u8))
        {
            schemeLength = 7;
        }
        else if (target.Length > 8 && Ascii.EqualsIgnoreCase(target[..8], "https://"u8))
        {
            schemeLength = 8;
        }
        else
        {
            Reject();
            schemeLength = 0;
        }

        var rest = target[schemeLength..];
        var end = rest.IndexOfAny((byte)'/', (byte)'?');
        var authorityBytes = end < 0 ? rest : rest[..end];
        if (!HostValidator.IsValid(authorityBytes))
        {
            Reject();
        }

        authority = Encoding.ASCII.GetString(authorityBytes);
        if (end < 0)
        {
            return "/"u8;
        }

        // "http://host?x" has an empty path, which means "/".
        return rest[end] == (byte)'?' ? Concat("/"u8, rest[end..]) : rest[end..];
    }

    private static byte[] Concat(ReadOnlySpan<byte> a, ReadOnlySpan<byte> b)
    {
        var result = new byte[a.Length + b.Length];
        a.CopyTo(result);
        b.CopyTo(result.AsSpan(a.Length));
        return result;
    }

    private static string ValidateQuery(ReadOnlySpan<byte> query)
    {
        if (query.IndexOfAnyExcept(HttpCharacters.QueryChar) >= 0)
        {
            Reject();
        }

        for (var i = query.IndexOf((byte)'%'); i >= 0; i = NextPercent(query, i + 3))
        {
            if (!TryDecodeEscape(query, i, out var value) || value == 0)
            {
                Reject();
            }
        }

        return Encoding.ASCII.GetString(query);
    }

    private static int NextPercent(ReadOnlySpan<byte> text, int from)
    {
        if (from >= text.Length)
        {
            return -1;
        }

        var next = text[from..].IndexOf((byte)'%');
        return next < 0 ? -1 : from + next;
    }

    private static string DecodeSegment(ReadOnlySpan<byte> raw)
    {
        if (raw.IsEmpty)
        {
            Reject(); // "//": an empty segment means different things to different backends.
        }

        if (raw.IndexOf((byte)'%') < 0)
        {
            RejectDotSegment(raw);
            return Encoding.ASCII.GetString(raw);
        }

        byte[]? rented = null;
        var decoded = raw.Length <= 256 ? stackalloc byte[raw.Length] : (rented = ArrayPool<byte>.Shared.Rent(raw.Length));
        try
        {
            var length = 0;
            for (var i = 0; i < raw.Length; i++)
            {
                if (raw[i] != (byte)'%')
                {
                    decoded[length++] = raw[i];
                    continue;
                }

                if (!TryDecodeEscape(raw, i, out var value) || value < 0x20 || value == 0x7F)
                {
                    Reject(); // %00 and other encoded controls never reach a backend.
                }

                decoded[length++] = value;
                i += 2;
            }

            var segment = decoded[..length];
            RejectDotSegment(segment);
            if (!Utf8.IsValid(segment))
            {
                Reject();
            }

            return Encoding.UTF8.GetString(segment);
        }
        finally
        {
            if (rented is not null)
            {
                ArrayPool<byte>.Shared.Return(rented);
            }
        }
    }

    private static void RejectDotSegment(ReadOnlySpan<byte> segment)
    {
        if (segment.SequenceEqual("."u8) || segment.SequenceEqual(".."u8))
        {
            Reject();
        }
    }

    private static bool TryDecodeEscape(ReadOnlySpan<byte> text, int percentIndex, out byte value)
    {
        value = 0;
        if (percentIndex + 2 >= text.Length)
        {
            return false;
        }

        var high = HexValue(text[percentIndex + 1]);
        var low = HexValue(text[percentIndex + 2]);
        if ((high | low) < 0)
        {
            return false;
        }

        value = (byte)((high << 4) | low);
        return true;
    }

    private static int HexValue(byte b) => b switch
    {
        >= (byte)'0' and <= (byte)'9' => b - '0',
        >= (byte)'a' and <= (byte)'f' => b - 'a' + 10,
        >= (byte)'A' and <= (byte)'F' => b - 'A' + 10,
        _ => -1,
    };

    private static void AppendEncoded(StringBuilder builder, string segment)
    {
        var verbatim = true;
        foreach (var c in segment)
        {
            if (c > 0x7F || !HttpCharacters.SegmentVerbatim.Contains((byte)c))
            {
                verbatim = false;
                break;
            }
        }

        if (verbatim)
        {
            builder.Append(segment);
            return;
        }

        Span<byte> utf8 = stackalloc byte[4];
        foreach (var rune in segment.EnumerateRunes())
        {
            var count = rune.EncodeToUtf8(utf8);
            for (var i = 0; i < count; i++)
            {
                var b = utf8[i];
                if (b < 0x80 && HttpCharacters.SegmentVerbatim.Contains(b))
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

    private static void Reject() => RequestRejectedException.Throw(RejectReason.InvalidTarget);
}
