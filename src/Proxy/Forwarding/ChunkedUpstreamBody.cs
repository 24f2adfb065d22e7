using System.Buffers;
using System.IO.Pipelines;
using Gatehouse.Http1.Grammar;

namespace Gatehouse.Proxy;

/// <summary>
/// A chunked upstream body, de-chunked as it streams by the one <see cref="ChunkedDecoder"/> that
/// also reads client bodies, so both directions take and refuse the same bytes. This adapter adds
/// the upstream's limits and its exceptions: <see cref="UpstreamProtocolException"/> for a
/// grammar fault, <see cref="IOException"/> for an early close.
/// </summary>
internal sealed class ChunkedUpstreamBody(PipeReader reader) : UpstreamBody(reader)
{
    /// <summary>A chunk-size line with its extensions.</summary>
    public const int MaxLineBytes = 4 * 1024;

    /// <summary>All trailer lines of one body.</summary>
    public const int MaxTrailerBytes = 16 * 1024;

    private ChunkedDecoder _decoder = new(MaxLineBytes, MaxTrailerBytes);

    public override bool IsComplete => _decoder.IsComplete;

    public override async ValueTask<int> ReadAsync(Memory<byte> destination, CancellationToken cancellationToken)
    {
        if (destination.IsEmpty)
        {
            return 0;
        }

        while (!_decoder.IsComplete)
        {
            var result = await ReadMoreAsync(cancellationToken).ConfigureAwait(false);
            var buffer = result.Buffer;
            var reader = new SequenceReader<byte>(buffer);
            var step = ChunkedStep.Fault;
            var copied = 0;
            try
            {
                step = _decoder.Decode(ref reader, destination.Span, out copied);
            }
            finally
            {
                Reader.AdvanceTo(reader.Position, step == ChunkedStep.NeedMore ? buffer.End : reader.Position);
            }

            if (step == ChunkedStep.Fault)
            {
                UpstreamGrammar.Throw(_decoder.Fault, "upstream chunked body");
            }

            if (copied > 0)
            {
                return copied;
            }

            if (step == ChunkedStep.NeedMore && result.IsCompleted)
            {
                throw new IOException("upstream closed inside a chunked body");
            }
        }

        return 0;
    }
}
