using System.Buffers;
using Gatehouse.Http1.Grammar;

namespace Gatehouse.Http1;

/// <summary>
/// A chunked request body, de-chunked as it streams by the one <see cref="ChunkedDecoder"/> that
/// also reads upstream answers. This adapter adds what is the client's own: the body-size limit,
/// the body timeout, and <see cref="RequestRejectedException"/> for a grammar fault.
/// </summary>
internal sealed class ChunkedBody : FramedBody
{
    private readonly long _maxBodyBytes;
    private ChunkedDecoder _decoder;

    public ChunkedBody(ConnectionInput input, TimeSpan idleTimeout, int maxOverhead, long maxBodyBytes, Func<ValueTask>? beforeFirstRead)
        : base(input, idleTimeout, beforeFirstRead)
    {
        _maxBodyBytes = maxBodyBytes;
        // One chunk-size line and the whole trailer section each get the overhead budget.
        _decoder = new ChunkedDecoder(maxOverhead, maxOverhead);
    }

    public override bool IsComplete => _decoder.IsComplete;

    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        if (buffer.IsEmpty)
        {
            return 0;
        }

        while (!_decoder.IsComplete)
        {
            var available = await ReadMoreAsync(cancellationToken).ConfigureAwait(false);
            var reader = new SequenceReader<byte>(available);
            var step = ChunkedStep.Fault; // a fault ends the connection; what was examined no longer matters
            var copied = 0;
            try
            {
                step = _decoder.Decode(ref reader, buffer.Span, out copied);
            }
            finally
            {
                // Needing more means every buffered byte was examined (a partial line included):
                // examined must be the end, or the next read returns the same bytes at once and spins.
                Reader.AdvanceTo(reader.Position, step == ChunkedStep.NeedMore ? available.End : reader.Position);
            }

            if (step == ChunkedStep.Fault)
            {
                RequestGrammar.Throw(_decoder.Fault, RejectReason.ChunkOverheadTooLarge);
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

            if (step == ChunkedStep.NeedMore && InputCompleted)
            {
                // The client closed with a partial line or chunk buffered: no more bytes will come.
                throw new RequestRejectedException(RejectReason.UnexpectedEndOfBody);
            }
        }

        return 0;
    }

    /// <summary>The chunk-size line rule, for tests and the fuzz target: the size, or a rejection.</summary>
    internal static long ParseChunkSizeLine(ReadOnlySpan<byte> line)
    {
        var fault = Http1Grammar.ParseChunkSizeLine(line, out var size);
        if (fault != GrammarFault.None)
        {
            RequestGrammar.Throw(fault, RejectReason.ChunkOverheadTooLarge);
        }

        return size;
    }
}
