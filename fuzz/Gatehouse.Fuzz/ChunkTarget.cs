using Gatehouse.Http1;
using Gatehouse.Http1.Grammar;

namespace Gatehouse.Fuzz;

/// <summary>
/// Target 3: <see cref="Http1Grammar.ParseChunkSizeLine"/> (the line without its CRLF; the one
/// rule both directions use, through the client adapter here), checked
/// against an independent reading of RFC 9112 §7.1: chunk-size = 1*HEXDIG; chunk-ext =
/// *( BWS ";" BWS chunk-ext-name [ BWS "=" BWS chunk-ext-val ] ); chunk-ext-val = token /
/// quoted-string. Both must accept the same lines and agree on the size; a size that does not fit
/// a non-negative long is refused.
/// </summary>
/// <remarks>
/// First finding: whitespace at the end of the line after an extension ("5;a ", "5;a=b ") was
/// accepted; fixed in ChunkedBody (now Http1Grammar), regression test in tests/Http1.Tests/Fuzz/ChunkSizeLineFuzzRegressionTests.cs.
/// </remarks>
internal static class ChunkTarget
{
    private const string TChar = "!#$%&'*+-.^_`|~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

    public static void Run(byte[] input)
    {
        long? actual;
        try
        {
            actual = ChunkedBody.ParseChunkSizeLine(input);
        }
        catch (RequestRejectedException e) when (e.Reason == RejectReason.InvalidChunk)
        {
            actual = null;
        }

        var expected = Reference(input);
        if (actual != expected)
        {
            throw new PropertyViolationException(
                $"chunk size line <{Show(input)}>: parser says {Describe(actual)}, RFC 9112 grammar says {Describe(expected)}");
        }
    }

    /// <summary>The size, or null when the line is not chunk-size [ chunk-ext ] or the size overflows.</summary>
    public static long? Reference(ReadOnlySpan<byte> line)
    {
        var pos = 0;
        while (pos < line.Length && IsHex(line[pos]))
        {
            pos++;
        }

        if (pos == 0)
        {
            return null;
        }

        var digits = line[..pos].TrimStart((byte)'0');
        if (digits.Length > 16 || (digits.Length == 16 && HexValue(digits[0]) > 7))
        {
            return null;
        }

        long size = 0;
        foreach (var d in digits)
        {
            size = (size << 4) | (long)HexValue(d);
        }

        while (pos < line.Length)
        {
            pos = SkipBws(line, pos);
            if (pos >= line.Length || line[pos] != (byte)';')
            {
                return null;
            }

            pos = SkipBws(line, pos + 1);
            var nameEnd = SkipToken(line, pos);
            if (nameEnd == pos)
            {
                return null;
            }

            pos = nameEnd;
            var afterBws = SkipBws(line, pos);
            if (afterBws >= line.Length || line[afterBws] != (byte)'=')
            {
                continue; // no value: the BWS after the name belongs to the next "BWS ;", which must follow
            }

            pos = SkipBws(line, afterBws + 1);
            if (pos < line.Length && line[pos] == (byte)'"')
            {
                pos = SkipQuoted(line, pos);
                if (pos < 0)
                {
                    return null;
                }
            }
            else
            {
                var valueEnd = SkipToken(line, pos);
                if (valueEnd == pos)
                {
                    return null;
                }

                pos = valueEnd;
            }
        }

        return size;
    }

    private static int SkipBws(ReadOnlySpan<byte> line, int pos)
    {
        while (pos < line.Length && line[pos] is (byte)' ' or (byte)'\t')
        {
            pos++;
        }

        return pos;
    }

    private static int SkipToken(ReadOnlySpan<byte> line, int pos)
    {
        while (pos < line.Length && TChar.Contains((char)line[pos], StringComparison.Ordinal))
        {
            pos++;
        }

        return pos;
    }

    /// <summary>quoted-string = DQUOTE *( qdtext / quoted-pair ) DQUOTE; returns the index after it, or -1.</summary>
    private static int SkipQuoted(ReadOnlySpan<byte> line, int pos)
    {
        for (var i = pos + 1; i < line.Length; i++)
        {
            var b = line[i];
            if (b == (byte)'"')
            {
                return i + 1;
            }

            if (b == (byte)'\\')
            {
                i++;
                if (i >= line.Length || !IsQuotedText(line[i]))
                {
                    return -1;
                }
            }
            else if (!IsQuotedText(b))
            {
                return -1;
            }
        }

        return -1;
    }

    /// <summary>HTAB / SP / VCHAR / obs-text.</summary>
    private static bool IsQuotedText(byte b) => b == (byte)'\t' || (b >= 0x20 && b != 0x7F);

    private static bool IsHex(byte b) => HexValue(b) >= 0;

    private static int HexValue(byte b) => b switch
    {
        >= (byte)'0' and <= (byte)'9' => b - '0',
        >= (byte)'a' and <= (byte)'f' => b - 'a' + 10,
        >= (byte)'A' and <= (byte)'F' => b - 'A' + 10,
        _ => -1,
    };

    private static string Describe(long? size) => size is { } s ? "size " + s : "invalid";

    public static string Show(ReadOnlySpan<byte> bytes)
    {
        var text = new System.Text.StringBuilder(bytes.Length);
        foreach (var b in bytes)
        {
            text.Append(b is >= 0x20 and < 0x7F and not (byte)'\\' ? ((char)b).ToString() : $"\\x{b:X2}");
        }

        return text.ToString();
    }
}
