using Gatehouse.Http1;

namespace Gatehouse.Files;

/// <summary>
/// The conditional headers a content-addressed file needs. Its ETag is the ID itself (the bytes can
/// never change under an ID), so there is no Last-Modified and no date comparison.
/// </summary>
internal static class EntityTags
{
    /// <summary>
    /// RFC 9110 §13.1.2: If-None-Match uses the weak comparison, so <c>W/"id"</c> matches too, and
    /// <c>*</c> matches any existing file. Every field of the header is looked at.
    /// </summary>
    public static bool NoneMatchHits(RequestHeaders headers, string id)
    {
        foreach (var value in headers.GetValues(KnownHeaderNames.IfNoneMatch))
        {
            if (value.AsSpan().Trim(" \t") is "*" || ListContains(value, id, allowWeak: true))
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>
    /// RFC 9110 §13.1.5: the Range applies only when If-Range is absent or its strong validator
    /// matches. A weak tag never matches, and an HTTP-date never does either: we send no
    /// Last-Modified, so a date cannot be one we issued.
    /// </summary>
    public static bool IfRangeAllowsRange(RequestHeaders headers, string id)
    {
        var count = headers.CountOf(KnownHeaderNames.IfRange);
        if (count == 0)
        {
            return true;
        }

        if (count > 1)
        {
            return false;
        }

        var value = headers[KnownHeaderNames.IfRange].AsSpan().Trim(" \t");
        return value.Length == id.Length + 2 && value[0] == '"' && value[^1] == '"' && value[1..^1].SequenceEqual(id);
    }

    /// <summary>Scans a list of entity-tags (commas may sit inside opaque tags, so no naive split).</summary>
    private static bool ListContains(ReadOnlySpan<char> list, string id, bool allowWeak)
    {
        var i = 0;
        while (i < list.Length)
        {
            var c = list[i];
            if (c is ' ' or '\t' or ',')
            {
                i++;
                continue;
            }

            var weak = false;
            if (c == 'W' && i + 1 < list.Length && list[i + 1] == '/')
            {
                weak = true;
                i += 2;
            }

            if (i >= list.Length || list[i] != '"')
            {
                return false; // malformed: treat as no match
            }

            var close = list[(i + 1)..].IndexOf('"');
            if (close < 0)
            {
                return false;
            }

            var opaque = list.Slice(i + 1, close);
            if ((allowWeak || !weak) && opaque.SequenceEqual(id))
            {
                return true;
            }

            i += close + 2;
        }

        return false;
    }
}
