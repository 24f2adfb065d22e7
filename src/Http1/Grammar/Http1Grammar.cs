using System.Buffers;

namespace Gatehouse.Http1.Grammar;

/// <summary>
/// The HTTP/1.1 message grammar (RFC 9112) that does not depend on who sent the bytes: lines,
/// field lines, chunk-size lines. The request parser and the upstream response parser both read
/// through here, so a client and an upstream are judged by the same rules. No I/O, no throwing:
/// each function returns a <see cref="GrammarFault"/> and the caller's adapter picks its exception.
/// </summary>
public static class Http1Grammar
{
    /// <summary>
    /// Reads one CRLF-terminated line (CRLF removed). False with <see cref="GrammarFault.None"/>:
    /// more bytes are needed. False with a fault: no line end within <paramref name="budget"/>
    /// bytes, or a bare LF. A CR elsewhere in the line is left to the caller's character classes,
    /// which all refuse it.
    /// </summary>
    public static bool TryReadLine(ref SequenceReader<byte> reader, int budget, out ReadOnlySpan<byte> line, out GrammarFault fault)
    {
        // Nearly every line lies whole in the segment under the reader: found there, it is taken as a
        // span, without the sequence slice (and its length and segment walk) the general path makes.
        var unread = reader.UnreadSpan;
        var end = unread.IndexOf((byte)'\n');
        if (end >= 0)
        {
            reader.Advance(end + 1);
            return TakeLine(unread[..end], budget, out line, out fault);
        }

        line = default;
        if (!reader.TryReadTo(out ReadOnlySequence<byte> sequence, (byte)'\n'))
        {
            fault = reader.Remaining > budget ? GrammarFault.LineTooLong : GrammarFault.None;
            return false;
        }

        if (sequence.Length > budget)
        {
            fault = GrammarFault.LineTooLong;
            return false;
        }

        // The line is bounded by the budget, so a line split across segments is copied once.
        return TakeLine(sequence.IsSingleSegment ? sequence.FirstSpan : sequence.ToArray(), budget, out line, out fault);
    }

    /// <summary>A line found up to (not with) its LF: within the budget and ending in CR, or a fault.</summary>
    private static bool TakeLine(ReadOnlySpan<byte> span, int budget, out ReadOnlySpan<byte> line, out GrammarFault fault)
    {
        line = default;
        if (span.Length > budget)
        {
            fault = GrammarFault.LineTooLong;
            return false;
        }

        if (span.IsEmpty || span[^1] != (byte)'\r')
        {
            fault = GrammarFault.BareLineFeed;
            return false;
        }

        line = span[..^1];
        fault = GrammarFault.None;
        return true;
    }

    /// <summary>
    /// field-line = field-name ":" OWS field-value OWS (RFC 9112 §5), the line without its CRLF.
    /// No whitespace before the colon (§5.1) and no obs-fold (§5.2): both are smuggling vectors.
    /// </summary>
    public static GrammarFault SplitFieldLine(ReadOnlySpan<byte> line, out ReadOnlySpan<byte> name, out ReadOnlySpan<byte> value)
    {
        name = default;
        value = default;
        if (!line.IsEmpty && line[0] is (byte)' ' or (byte)'\t')
        {
            return GrammarFault.ObsoleteLineFolding;
        }

        var colon = line.IndexOf((byte)':');
        if (colon <= 0 || !IsToken(line[..colon]))
        {
            return GrammarFault.InvalidFieldName;
        }

        var trimmed = line[(colon + 1)..].Trim(" \t"u8);
        if (!IsFieldText(trimmed))
        {
            return GrammarFault.InvalidFieldValue;
        }

        name = line[..colon];
        value = trimmed;
        return GrammarFault.None;
    }

    /// <summary>
    /// chunk-size [ chunk-ext ] (RFC 9112 §7.1), the line without its CRLF. The one rule for both
    /// directions:
    /// chunk-size = 1*HEXDIG whose value fits a non-negative long; leading zeros are free (llhttp
    /// and Kestrel take any number, and the line budget bounds them).
    /// chunk-ext = *( BWS ";" BWS name [ BWS "=" BWS value ] ), value = token / quoted-string:
    /// whitespace only before a ";" or around an "=", never at the end of the line ("5 ", "5;a "),
    /// which llhttp refuses too ("Space after chunk header"). Extensions are checked, then ignored.
    /// </summary>
    public static GrammarFault ParseChunkSizeLine(ReadOnlySpan<byte> line, out long size)
    {
        size = 0;
        var digits = line.IndexOfAnyExcept(HttpCharacters.HexDigit);
        if (digits < 0)
        {
            digits = line.Length;
        }

        if (digits == 0)
        {
            return GrammarFault.InvalidChunkSize;
        }

        long value = 0;
        foreach (var b in line[..digits])
        {
            if (value > (long.MaxValue >> 4))
            {
                return GrammarFault.ChunkSizeTooLarge;
            }

            value = (value << 4) | (uint)HexValue(b);
        }

        if (!AreChunkExtensions(line[digits..]))
        {
            return GrammarFault.InvalidChunkExtension;
        }

        size = value;
        return GrammarFault.None;
    }

    /// <summary>True when <paramref name="text"/> is a non-empty token (RFC 9110 §5.6.2).</summary>
    public static bool IsToken(ReadOnlySpan<byte> text) => !text.IsEmpty && text.IndexOfAnyExcept(HttpCharacters.Token) < 0;

    /// <summary>True when every byte may stand in a field value or a reason phrase (RFC 9110 §5.5).</summary>
    public static bool IsFieldText(ReadOnlySpan<byte> text) => text.IndexOfAnyExcept(HttpCharacters.FieldValue) < 0;

    private static bool AreChunkExtensions(ReadOnlySpan<byte> rest)
    {
        while (!rest.IsEmpty)
        {
            // Whitespace left over from the last name or value is only grammatical before a ";".
            rest = rest.TrimStart(" \t"u8);
            if (rest.IsEmpty || rest[0] != (byte)';')
            {
                return false;
            }

            rest = rest[1..].TrimStart(" \t"u8);
            var nameLength = TokenLength(rest);
            if (nameLength == 0)
            {
                return false;
            }

            rest = rest[nameLength..];
            var afterName = rest.TrimStart(" \t"u8);
            if (!afterName.IsEmpty && afterName[0] == (byte)'=')
            {
                var valueStart = afterName[1..].TrimStart(" \t"u8);
                var valueLength = !valueStart.IsEmpty && valueStart[0] == (byte)'"' ? QuotedStringLength(valueStart) : TokenLength(valueStart);
                if (valueLength == 0)
                {
                    return false; // "5;a=": a value is never empty; or an unbalanced quote
                }

                rest = valueStart[valueLength..];
            }
        }

        return true;
    }

    private static int TokenLength(ReadOnlySpan<byte> text)
    {
        var length = text.IndexOfAnyExcept(HttpCharacters.Token);
        return length < 0 ? text.Length : length;
    }

    /// <summary>quoted-string (RFC 9110 §5.6.4) from its opening quote: its length, or 0 when unbalanced or holding a control byte.</summary>
    private static int QuotedStringLength(ReadOnlySpan<byte> text)
    {
        for (var i = 1; i < text.Length; i++)
        {
            var b = text[i];
            if (b == (byte)'"')
            {
                return i + 1;
            }

            if (b == (byte)'\\')
            {
                i++;
                if (i >= text.Length || !HttpCharacters.FieldValue.Contains(text[i]))
                {
                    return 0;
                }
            }
            else if (!HttpCharacters.FieldValue.Contains(b))
            {
                return 0;
            }
        }

        return 0;
    }

    private static int HexValue(byte b) => b <= (byte)'9' ? b - '0' : (b | 0x20) - 'a' + 10;
}
