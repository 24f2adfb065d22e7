using System.Buffers;

namespace Gatehouse.Proxy;

/// <summary>Reads one CRLF-terminated line from a sequence, strictly: a bare LF or a CR not followed by LF is refused.</summary>
internal static class LineReader
{
    /// <summary>
    /// True with the line (CRLF removed) when a full line is buffered. False when more bytes are
    /// needed; throws when <paramref name="maxLength"/> passes without a line end.
    /// </summary>
    public static bool TryReadLine(ref SequenceReader<byte> reader, int maxLength, out ReadOnlySpan<byte> line, string what)
    {
        if (!reader.TryReadTo(out ReadOnlySequence<byte> raw, (byte)'\n'))
        {
            if (reader.Remaining > maxLength)
            {
                UpstreamProtocolException.Throw($"{what} too long");
            }

            line = default;
            return false;
        }

        if (raw.Length > maxLength)
        {
            UpstreamProtocolException.Throw($"{what} too long");
        }

        ReadOnlySpan<byte> span = raw.IsSingleSegment ? raw.FirstSpan : raw.ToArray();
        if (span.IsEmpty || span[^1] != (byte)'\r')
        {
            UpstreamProtocolException.Throw($"bare LF in {what}"); // RFC 9112 §2.2: we do not guess
        }

        line = span[..^1];
        if (line.Contains((byte)'\r'))
        {
            UpstreamProtocolException.Throw($"bare CR in {what}");
        }

        return true;
    }
}
