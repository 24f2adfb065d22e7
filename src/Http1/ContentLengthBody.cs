using System.Buffers;

namespace Gatehouse.Http1;

/// <summary>A body of exactly Content-Length bytes (RFC 9112 §6.2).</summary>
internal sealed class ContentLengthBody : FramedBody
{
    private long _remaining;

    public ContentLengthBody(ConnectionInput input, long length, TimeSpan idleTimeout, Func<ValueTask>? beforeFirstRead)
        : base(input, idleTimeout, beforeFirstRead)
    {
        _remaining = length;
    }

    public override bool IsComplete => _remaining == 0;

    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        if (_remaining == 0 || buffer.IsEmpty)
        {
            return 0;
        }

        var available = await ReadMoreAsync(cancellationToken).ConfigureAwait(false);
        var count = (int)Math.Min(Math.Min(available.Length, _remaining), buffer.Length);
        var slice = available.Slice(0, count);
        slice.CopyTo(buffer.Span);
        Reader.AdvanceTo(slice.End);
        _remaining -= count;
        BytesRead += count;
        return count;
    }
}
