using System.Buffers;
using System.IO.Pipelines;

namespace Gatehouse.Proxy;

/// <summary>
/// A body without CL or TE runs until the upstream closes (RFC 9112 §6.3 item 8). Sent on to the
/// client chunked, so its end stays visible; the upstream connection is never reused after it.
/// </summary>
internal sealed class CloseDelimitedUpstreamBody(PipeReader reader) : UpstreamBody(reader)
{
    private bool _complete;

    public override bool IsComplete => _complete;

    public override async ValueTask<int> ReadAsync(Memory<byte> destination, CancellationToken cancellationToken)
    {
        if (_complete || destination.IsEmpty)
        {
            return 0;
        }

        var result = await ReadMoreAsync(cancellationToken).ConfigureAwait(false);
        var buffer = result.Buffer;
        if (buffer.IsEmpty && result.IsCompleted)
        {
            Reader.AdvanceTo(buffer.End);
            _complete = true;
            return 0;
        }

        var count = (int)Math.Min(buffer.Length, destination.Length);
        var slice = buffer.Slice(0, count);
        slice.CopyTo(destination.Span);
        Reader.AdvanceTo(slice.End);
        return count;
    }
}
