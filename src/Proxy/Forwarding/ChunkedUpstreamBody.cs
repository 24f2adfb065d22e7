using System.Buffers;
using System.IO.Pipelines;

namespace Gatehouse.Proxy;

/// <summary>
/// A chunked body (RFC 9112 §7.1) de-chunked as it streams. Sizes are hex with an overflow cap,
/// extensions are checked against the grammar and dropped, CRLFs must be exact, trailers are
/// checked like header lines and dropped (the client side re-chunks without them).
/// </summary>
internal sealed class ChunkedUpstreamBody(PipeReader reader) : UpstreamBody(reader)
{
    /// <summary>A chunk-size line with its extensions.</summary>
    public const int MaxLineBytes = 4 * 1024;

    /// <summary>All trailer lines of one body.</summary>
    public const int MaxTrailerBytes = 16 * 1024;

    private State _state = State.Size;
    private long _chunkRemaining;
    private int _trailerBytes;

    private enum State
    {
        Size,
        Data,
        DataEnd,
        Trailers,
        Done,
    }

    private enum Step
    {
        NeedMore,
        DestinationFull,
        Done,
    }

    public override bool IsComplete => _state == State.Done;

    public override async ValueTask<int> ReadAsync(Memory<byte> destination, CancellationToken cancellationToken)
    {
        if (destination.IsEmpty)
        {
            return 0;
        }

        while (_state != State.Done)
        {
            var result = await ReadMoreAsync(cancellationToken).ConfigureAwait(false);
            var buffer = result.Buffer;
            var reader = new SequenceReader<byte>(buffer);
            var copied = 0;
            var step = Step.NeedMore;
            try
            {
                step = Advance(ref reader, destination.Span, ref copied);
            }
            finally
            {
                Reader.AdvanceTo(reader.Position, step == Step.NeedMore ? buffer.End : reader.Position);
            }

            if (copied > 0)
            {
                return copied;
            }

            if (step == Step.NeedMore && result.IsCompleted)
            {
                throw new IOException("upstream closed inside a chunked body");
            }
        }

        return 0;
    }

    private Step Advance(ref SequenceReader<byte> reader, Span<byte> destination, ref int copied)
    {
        while (true)
        {
            switch (_state)
            {
                case State.Size:
                    if (!LineReader.TryReadLine(ref reader, MaxLineBytes, out var sizeLine, "chunk-size line"))
                    {
                        return Step.NeedMore;
                    }

                    _chunkRemaining = ParseSizeLine(sizeLine);
                    _state = _chunkRemaining == 0 ? State.Trailers : State.Data;
                    break;

                case State.Data:
                    if (copied == destination.Length)
                    {
                        return Step.DestinationFull;
                    }

                    if (reader.End)
                    {
                        return Step.NeedMore;
                    }

                    var count = (int)Math.Min(Math.Min(_chunkRemaining, reader.Remaining), destination.Length - copied);
                    reader.UnreadSequence.Slice(0, count).CopyTo(destination[copied..]);
                    reader.Advance(count);
                    copied += count;
                    _chunkRemaining -= count;
                    if (_chunkRemaining == 0)
                    {
                        _state = State.DataEnd;
                    }

                    break;

                case State.DataEnd:
                    if (reader.Remaining < 2)
                    {
                        return Step.NeedMore;
                    }

                    if (!reader.IsNext("\r\n"u8, advancePast: true))
                    {
                        UpstreamProtocolException.Throw("chunk data not followed by CRLF");
                    }

                    _state = State.Size;
                    break;

                case State.Trailers:
                    var before = reader.Consumed;
                    if (!LineReader.TryReadLine(ref reader, MaxTrailerBytes - _trailerBytes, out var trailer, "chunked trailer section"))
                    {
                        return Step.NeedMore;
                    }

                    _trailerBytes += (int)(reader.Consumed - before);
                    if (trailer.IsEmpty)
                    {
                        _state = State.Done;
                        return Step.Done;
                    }

                    FieldLine.Split(trailer, out _, out _);
                    break;

                default:
                    return Step.Done;
            }
        }
    }

    /// <summary>chunk-size [ chunk-ext ] (RFC 9112 §7.1, §7.1.1): 1*HEXDIG *( BWS ";" BWS name [ BWS "=" BWS value ] ).</summary>
    internal static long ParseSizeLine(ReadOnlySpan<byte> line)
    {
        long size = 0;
        var i = 0;
        for (; i < line.Length && char.IsAsciiHexDigit((char)line[i]); i++)
        {
            if (i == 15)
            {
                UpstreamProtocolException.Throw("chunk size too large"); // 15 hex digits < 2^60: never overflows
            }

            size = (size << 4) | (long)HexValue(line[i]);
        }

        if (i == 0)
        {
            UpstreamProtocolException.Throw("invalid chunk size");
        }

        while (i < line.Length)
        {
            i = SkipWhitespace(line, i);
            if (i == line.Length || line[i] != (byte)';')
            {
                UpstreamProtocolException.Throw("invalid chunk extension");
            }

            i = SkipWhitespace(line, i + 1);
            i = ReadToken(line, i);
            i = SkipWhitespace(line, i);
            if (i < line.Length && line[i] == (byte)'=')
            {
                i = SkipWhitespace(line, i + 1);
                i = i < line.Length && line[i] == (byte)'"' ? ReadQuoted(line, i) : ReadToken(line, i);
                i = SkipWhitespace(line, i);
            }
        }

        return size;
    }

    private static int SkipWhitespace(ReadOnlySpan<byte> line, int i)
    {
        while (i < line.Length && line[i] is (byte)' ' or (byte)'\t')
        {
            i++;
        }

        return i;
    }

    private static int ReadToken(ReadOnlySpan<byte> line, int i)
    {
        var start = i;
        while (i < line.Length && FieldLine.IsTokenByte(line[i]))
        {
            i++;
        }

        if (i == start)
        {
            UpstreamProtocolException.Throw("invalid chunk extension");
        }

        return i;
    }

    /// <summary>quoted-string (RFC 9110 §5.6.4) starting at the opening quote; returns the index after the closing one.</summary>
    private static int ReadQuoted(ReadOnlySpan<byte> line, int i)
    {
        for (i++; i < line.Length; i++)
        {
            var b = line[i];
            if (b == (byte)'"')
            {
                return i + 1;
            }

            if (b == (byte)'\\')
            {
                i++;
                if (i == line.Length || !FieldLine.IsFieldText(line.Slice(i, 1)))
                {
                    break;
                }
            }
            else if (!FieldLine.IsFieldText(line.Slice(i, 1)))
            {
                break;
            }
        }

        UpstreamProtocolException.Throw("invalid quoted chunk extension");
        return i;
    }

    private static int HexValue(byte b) => b <= '9' ? b - '0' : (b | 0x20) - 'a' + 10;
}
