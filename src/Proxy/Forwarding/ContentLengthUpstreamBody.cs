using System.Buffers;
using System.IO.Pipelines;

namespace Gatehouse.Proxy;

/// <summary>Exactly Content-Length bytes (RFC 9112 §6.2); the upstream closing sooner is a failure.</summary>
/// <remarks>An upstream connection keeps one and <see cref="Start"/>s it for each answer.</remarks>
internal sealed class ContentLengthUpstreamBody(PipeReader reader) : UpstreamBody(reader)
{
    private long _remaining;

    public ContentLengthUpstreamBody(PipeReader reader, long length)
        : this(reader)
    {
        _remaining = length;
    }

    /// <summary>Begins the next answer's body of <paramref name="length"/> bytes.</summary>
    public ContentLengthUpstreamBody Start(long length)
    {
        _remaining = length;
        return this;
    }

    public override bool IsComplete => _remaining == 0;

    public override long BytesOwed => _remaining;

    public override bool TryReadRest(Span<byte> destination)
    {
        if (_remaining == 0 || destination.Length < _remaining || !Reader.TryRead(out var result))
        {
            return false;
        }

        var buffer = result.Buffer;
        if (result.IsCanceled || buffer.Length < _remaining)
        {
            Reader.AdvanceTo(buffer.Start); // examined nothing: the read that follows sees these bytes again
            return result.IsCanceled ? throw new OperationCanceledException("upstream read canceled") : false;
        }

        var body = buffer.Slice(0, _remaining);
        body.CopyTo(destination);
        Reader.AdvanceTo(body.End);
        _remaining = 0;
        return true;
    }

    public override async ValueTask<int> ReadAsync(Memory<byte> destination, CancellationToken cancellationToken)
    {
        if (_remaining == 0 || destination.IsEmpty)
        {
            return 0;
        }

        var result = await ReadMoreAsync(cancellationToken).ConfigureAwait(false);
        var buffer = result.Buffer;
        if (buffer.IsEmpty && result.IsCompleted)
        {
            Reader.AdvanceTo(buffer.End);
            throw new IOException($"upstream closed with {_remaining} body bytes missing");
        }

        var count = (int)Math.Min(Math.Min(buffer.Length, _remaining), destination.Length);
        var slice = buffer.Slice(0, count);
        slice.CopyTo(destination.Span);
        Reader.AdvanceTo(slice.End);
        _remaining -= count;
        return count;
    }
}
