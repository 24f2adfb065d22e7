using System.Buffers;

namespace Gatehouse.Http1;

/// <summary>
/// A chunked body (RFC 9112 §7.1), de-chunked as it streams. Chunk sizes are checked for
/// overflow, extensions are parsed (and ignored) to the grammar, CRLFs must be exact, and
/// trailers are validated like header fields and then dropped.
/// </summary>
internal sealed class ChunkedBody : FramedBody
{
    private readonly int _maxOverhead;
    private readonly long _maxBodyBytes;
    private State _state = State.Size;
    private long _chunkRemaining;
    private int _trailerBytes;
    private RequestHeaders? _trailerSink;

    public ChunkedBody(ConnectionInput input, TimeSpan idleTimeout, int maxOverhead, long maxBodyBytes, Func<ValueTask>? beforeFirstRead)
        : base(input, idleTimeout, beforeFirstRead)
    {
        _maxOverhead = maxOverhead;
        _maxBodyBytes = maxBodyBytes;
    }

    private enum State
    {
        Size,
        Data,
        DataEnd,
        Trailers,
        Done,
    }

    public override bool IsComplete => _state == State.Done;

    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        if (buffer.IsEmpty)
        {
            return 0;
        }

        while (_state != State.Done)
        {
            var available = await ReadMoreAsync(cancellationToken).ConfigureAwait(false);
            var reader = new SequenceReader<byte>(available);
            var copied = 0;
            var needMore = true; // a throw ends the connection; what was examined no longer matters
            try
            {
                needMore = Step(ref reader, buffer.Span, ref copied);
            }
            finally
            {
                // Needing more means every buffered byte was examined (a partial line included):
                // examined must be the end, or the next read returns the same bytes at once and spins.
                Reader.AdvanceTo(reader.Position, needMore ? available.End : reader.Position);
            }

            if (copied > 0)
            {
                BytesRead += copied;
                if (BytesRead > _maxBodyBytes)
                {
                    throw new RequestRejectedException(RejectReason.BodyTooLarge);
                }

                return copied;
            }

            if (needMore && InputCompleted)
            {
                // The client closed with a partial line or chunk buffered: no more bytes will come.
                throw new RequestRejectedException(RejectReason.UnexpectedEndOfBody);
            }
        }

        return 0;
    }

    /// <summary>Advances the state machine over what is buffered. Returns true when it needs more bytes.</summary>
    private bool Step(ref SequenceReader<byte> reader, Span<byte> destination, ref int copied)
    {
        while (true)
        {
            switch (_state)
            {
                case State.Size:
                    if (!TryReadLine(ref reader, _maxOverhead, out var sizeLine))
                    {
                        return true;
                    }

                    _chunkRemaining = ParseChunkSizeLine(sizeLine);
                    _state = _chunkRemaining == 0 ? State.Trailers : State.Data;
                    break;

                case State.Data:
                    var count = (int)Math.Min(Math.Min(_chunkRemaining, reader.Remaining), destination.Length - copied);
                    if (count == 0)
                    {
                        return reader.End;
                    }

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
                        return true;
                    }

                    if (!reader.IsNext("\r\n"u8, advancePast: true))
                    {
                        RequestRejectedException.Throw(RejectReason.InvalidChunk);
                    }

                    _state = State.Size;
                    if (copied > 0)
                    {
                        return false;
                    }

                    break;

                case State.Trailers:
                    if (!TryReadLine(ref reader, _maxOverhead - _trailerBytes, out var trailer))
                    {
                        return true;
                    }

                    _trailerBytes += trailer.Length + 2;
                    if (trailer.IsEmpty)
                    {
                        _state = State.Done;
                        return false;
                    }

                    // Trailers are validated like header fields, then dropped: nothing downstream reads them.
                    _trailerSink ??= new RequestHeaders();
                    RequestHeadParser.ParseHeaderLine(trailer, _trailerSink);
                    _trailerSink.Clear();
                    break;

                default:
                    return false;
            }
        }
    }

    private static bool TryReadLine(ref SequenceReader<byte> reader, int budget, out ReadOnlySpan<byte> line)
    {
        if (!reader.TryReadTo(out ReadOnlySequence<byte> sequence, (byte)'\n'))
        {
            if (reader.Remaining > budget)
            {
                RequestRejectedException.Throw(RejectReason.ChunkOverheadTooLarge);
            }

            line = default;
            return false;
        }

        if (sequence.Length > budget)
        {
            RequestRejectedException.Throw(RejectReason.ChunkOverheadTooLarge);
        }

        var span = sequence.IsSingleSegment ? sequence.FirstSpan : sequence.ToArray();
        if (span.IsEmpty || span[^1] != (byte)'\r')
        {
            RequestRejectedException.Throw(RejectReason.BareLineFeed);
        }

        line = span[..^1];
        return true;
    }

    /// <summary>chunk-size [ chunk-ext ]: 1*HEXDIG then *( BWS ";" BWS name [ BWS "=" BWS value ] ).</summary>
    internal static long ParseChunkSizeLine(ReadOnlySpan<byte> line)
    {
        var digits = line.IndexOfAnyExcept(HttpCharacters.HexDigit);
        if (digits < 0)
        {
            digits = line.Length;
        }

        if (digits == 0)
        {
            RequestRejectedException.Throw(RejectReason.InvalidChunk);
        }

        long size = 0;
        for (var i = 0; i < digits; i++)
        {
            if (size > (long.MaxValue >> 4))
            {
                RequestRejectedException.Throw(RejectReason.InvalidChunk); // overflow
            }

            size = (size << 4) | (uint)HexValue(line[i]);
        }

        ValidateExtensions(line[digits..]);
        return size;
    }

    private static void ValidateExtensions(ReadOnlySpan<byte> rest)
    {
        while (!rest.IsEmpty)
        {
            rest = rest.TrimStart(" \t"u8);
            if (rest.IsEmpty || rest[0] != (byte)';')
            {
                RequestRejectedException.Throw(RejectReason.InvalidChunk); // trailing whitespace or junk after the size
            }

            rest = rest[1..].TrimStart(" \t"u8);
            var nameLength = rest.IndexOfAnyExcept(HttpCharacters.Token);
            if (nameLength < 0)
            {
                nameLength = rest.Length;
            }

            if (nameLength == 0)
            {
                RequestRejectedException.Throw(RejectReason.InvalidChunk);
            }

            rest = rest[nameLength..];
            var afterName = rest.TrimStart(" \t"u8);
            if (!afterName.IsEmpty && afterName[0] == (byte)'=')
            {
                rest = SkipExtensionValue(afterName[1..].TrimStart(" \t"u8));
            }

            // Whitespace left here (BWS) is only grammatical before another ";": the loop's top
            // refuses it at the end of the line (a fuzz finding: "5;a " and "5;a=b " were accepted).
        }
    }

    private static ReadOnlySpan<byte> SkipExtensionValue(ReadOnlySpan<byte> rest)
    {
        if (!rest.IsEmpty && rest[0] == (byte)'"')
        {
            for (var i = 1; i < rest.Length; i++)
            {
                var b = rest[i];
                if (b == (byte)'"')
                {
                    return rest[(i + 1)..];
                }

                if (b == (byte)'\\')
                {
                    i++;
                    if (i >= rest.Length || (rest[i] < 0x20 && rest[i] != (byte)'\t') || rest[i] == 0x7F)
                    {
                        break;
                    }
                }
                else if ((b < 0x20 && b != (byte)'\t') || b == 0x7F)
                {
                    break;
                }
            }

            RequestRejectedException.Throw(RejectReason.InvalidChunk); // unbalanced quote or control byte
        }

        var length = rest.IndexOfAnyExcept(HttpCharacters.Token);
        if (length == 0 || rest.IsEmpty)
        {
            // "5;a=" with no value: chunk-ext-val is token / quoted-string, never empty.
            RequestRejectedException.Throw(RejectReason.InvalidChunk);
        }

        return length < 0 ? [] : rest[length..];
    }

    private static int HexValue(byte b) => b <= (byte)'9' ? b - '0' : (b | 0x20) - 'a' + 10;
}
