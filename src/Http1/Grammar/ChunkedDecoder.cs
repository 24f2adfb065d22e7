using System.Buffers;

namespace Gatehouse.Http1.Grammar;

/// <summary>What one <see cref="ChunkedDecoder.Decode"/> call ended on.</summary>
public enum ChunkedStep : byte
{
    /// <summary>Every buffered byte was examined; some data may have been copied.</summary>
    NeedMore,

    /// <summary>Data was copied and the caller should hand it on before calling again.</summary>
    Progress,

    /// <summary>The last chunk and the trailer section were read; the reader stands after the body.</summary>
    Done,

    /// <summary>The body broke the grammar; <see cref="ChunkedDecoder.Fault"/> says how.</summary>
    Fault,
}

/// <summary>
/// The one de-chunker (RFC 9112 §7.1), for request bodies from clients and response bodies from
/// upstreams alike: sizes and extensions by <see cref="Http1Grammar.ParseChunkSizeLine"/>, exact
/// CRLF after the data, trailers checked as field lines and dropped (nothing downstream reads
/// them). Incremental and I/O-free: it decodes what is buffered, the caller owns AdvanceTo.
/// A mutable struct: keep it in a field and call it there, never on a copy.
/// </summary>
public struct ChunkedDecoder
{
    private readonly int _maxLineBytes;
    private readonly int _maxTrailerBytes;
    private State _state;
    private long _chunkRemaining;
    private int _trailerBytes;

    /// <param name="maxLineBytes">The budget of one chunk-size line, extensions included.</param>
    /// <param name="maxTrailerBytes">The budget of the whole trailer section.</param>
    public ChunkedDecoder(int maxLineBytes, int maxTrailerBytes)
    {
        _maxLineBytes = maxLineBytes;
        _maxTrailerBytes = maxTrailerBytes;
    }

    private enum State : byte
    {
        Size,
        Data,
        DataEnd,
        Trailers,
        Done,
    }

    public readonly bool IsComplete => _state == State.Done;

    /// <summary>Why the last <see cref="Decode"/> returned <see cref="ChunkedStep.Fault"/>.</summary>
    public GrammarFault Fault { get; private set; }

    /// <summary>
    /// Copies chunk data into <paramref name="destination"/>, reading framing in between, as far as
    /// the buffered bytes go. A fault met after data was copied is held back: the reader is left
    /// before the bad bytes and <see cref="ChunkedStep.Progress"/> returned, so the data goes out
    /// first and the next call reports the fault.
    /// </summary>
    public ChunkedStep Decode(ref SequenceReader<byte> reader, Span<byte> destination, out int copied)
    {
        copied = 0;
        while (true)
        {
            var start = reader.Consumed;
            var fault = GrammarFault.None;
            switch (_state)
            {
                case State.Size:
                    if (!Http1Grammar.TryReadLine(ref reader, _maxLineBytes, out var sizeLine, out fault))
                    {
                        if (fault == GrammarFault.None)
                        {
                            return ChunkedStep.NeedMore;
                        }

                        fault = fault == GrammarFault.LineTooLong ? GrammarFault.ChunkLineTooLong : fault;
                        break;
                    }

                    fault = Http1Grammar.ParseChunkSizeLine(sizeLine, out _chunkRemaining);
                    if (fault == GrammarFault.None)
                    {
                        _state = _chunkRemaining == 0 ? State.Trailers : State.Data;
                    }

                    break;

                case State.Data:
                    if (copied == destination.Length)
                    {
                        return ChunkedStep.Progress;
                    }

                    if (reader.End)
                    {
                        return ChunkedStep.NeedMore;
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
                        return ChunkedStep.NeedMore;
                    }

                    if (reader.IsNext("\r\n"u8, advancePast: true))
                    {
                        _state = State.Size;
                    }
                    else
                    {
                        fault = GrammarFault.ChunkDataNotTerminated;
                    }

                    break;

                case State.Trailers:
                    if (!Http1Grammar.TryReadLine(ref reader, _maxTrailerBytes - _trailerBytes, out var trailer, out fault))
                    {
                        if (fault == GrammarFault.None)
                        {
                            return ChunkedStep.NeedMore;
                        }

                        fault = fault == GrammarFault.LineTooLong ? GrammarFault.TrailersTooLarge : fault;
                        break;
                    }

                    if (trailer.IsEmpty)
                    {
                        _state = State.Done;
                        return ChunkedStep.Done;
                    }

                    fault = Http1Grammar.SplitFieldLine(trailer, out _, out _);
                    if (fault == GrammarFault.None)
                    {
                        _trailerBytes += trailer.Length + 2;
                    }

                    break;

                default:
                    return ChunkedStep.Done;
            }

            if (fault != GrammarFault.None)
            {
                if (copied > 0)
                {
                    reader.Rewind(reader.Consumed - start);
                    return ChunkedStep.Progress;
                }

                Fault = fault;
                return ChunkedStep.Fault;
            }
        }
    }
}
