namespace Gatehouse.Files;

/// <summary>
/// Parses a Range header value against a file size (RFC 9110 §14.1.1, §14.1.2, §14.2). Pure: no I/O.
/// </summary>
/// <remarks>
/// Choices (RFC 9110 §14.2 lets a server ignore or reject abusive range sets):
/// a malformed header or another unit is ignored (full 200); more than <c>maxRanges</c> ranges, or
/// any two satisfiable ranges that overlap, are refused with 416 — a real client never needs the same
/// bytes twice, and thousands of tiny or overlapping ranges are the classic amplification attack.
/// Ranges out of ascending order but not overlapping are served in the order asked.
/// Unsatisfiable ranges among satisfiable ones are dropped (§14.1.2).
/// </remarks>
internal static class RangeHeader
{
    public static RangeOutcome Parse(ReadOnlySpan<char> value, long size, int maxRanges, Span<ByteRange> ranges, out int count)
    {
        count = 0;
        value = value.Trim(" \t");
        if (value.Length < 6 || !value[..6].Equals("bytes=", StringComparison.OrdinalIgnoreCase))
        {
            return RangeOutcome.Ignore;
        }

        var set = value[6..];
        var specs = 0;
        var overlapping = false;
        foreach (var part in set.Split(','))
        {
            var spec = set[part].Trim(" \t");
            if (spec.IsEmpty)
            {
                continue; // RFC 9110 §5.6.1.2: empty list elements are allowed and not counted
            }

            specs++;
            if (!TryParseSpec(spec, size, out var range, out var satisfiable))
            {
                return RangeOutcome.Ignore;
            }

            if (!satisfiable || specs > maxRanges || specs > ranges.Length)
            {
                continue;
            }

            foreach (var taken in ranges[..count])
            {
                overlapping |= range.Start < taken.Start + taken.Length && taken.Start < range.Start + range.Length;
            }

            ranges[count++] = range;
        }

        if (specs == 0)
        {
            return RangeOutcome.Ignore;
        }

        if (specs > maxRanges)
        {
            count = 0;
            return RangeOutcome.TooManyRanges;
        }

        if (overlapping)
        {
            count = 0;
            return RangeOutcome.Overlapping;
        }

        return count == 0 ? RangeOutcome.NotSatisfiable : RangeOutcome.Satisfiable;
    }

    /// <summary>Convenience for callers that keep the ranges across awaits.</summary>
    public static RangeOutcome Parse(string value, long size, int maxRanges, out ByteRange[] ranges)
    {
        Span<ByteRange> scratch = maxRanges <= 64 ? stackalloc ByteRange[Math.Max(maxRanges, 0)] : new ByteRange[maxRanges];
        var outcome = Parse(value, size, maxRanges, scratch, out var count);
        ranges = scratch[..count].ToArray();
        return outcome;
    }

    /// <summary>One range-spec: <c>first-last</c>, <c>first-</c> or <c>-suffix</c>. False when malformed.</summary>
    private static bool TryParseSpec(ReadOnlySpan<char> spec, long size, out ByteRange range, out bool satisfiable)
    {
        range = default;
        satisfiable = false;
        var dash = spec.IndexOf('-');
        if (dash < 0)
        {
            return false;
        }

        var first = spec[..dash];
        var last = spec[(dash + 1)..];
        if (first.IsEmpty)
        {
            // suffix-range: the last N bytes; "-0" is well formed but never satisfiable (§14.1.2).
            if (!TryParseDigits(last, out var suffix))
            {
                return false;
            }

            if (suffix > 0 && size > 0)
            {
                var start = Math.Max(0, size - suffix);
                range = new ByteRange(start, size - start);
                satisfiable = true;
            }

            return true;
        }

        if (!TryParseDigits(first, out var from))
        {
            return false;
        }

        var to = long.MaxValue;
        if (!last.IsEmpty && (!TryParseDigits(last, out to) || to < from))
        {
            return false; // §14.1.1: last-pos below first-pos makes the range-spec invalid
        }

        if (from < size)
        {
            range = new ByteRange(from, Math.Min(to, size - 1) - from + 1);
            satisfiable = true;
        }

        return true;
    }

    /// <summary>1*DIGIT, saturating at long.MaxValue: a huge position is still well formed, just beyond any file.</summary>
    private static bool TryParseDigits(ReadOnlySpan<char> digits, out long value)
    {
        value = 0;
        if (digits.IsEmpty)
        {
            return false;
        }

        foreach (var c in digits)
        {
            if (c is < '0' or > '9')
            {
                return false;
            }

            value = value > (long.MaxValue - 9) / 10 ? long.MaxValue : (value * 10) + (c - '0');
        }

        return true;
    }
}
