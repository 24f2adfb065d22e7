using System.Buffers;
using System.IO.Pipelines;

namespace Gatehouse.Http1;

/// <summary>
/// The connection after a <c>101 Switching Protocols</c>: reads continue from the same
/// PipeReader (bytes the client pipelined after the handshake are not lost), writes go
/// through the same PipeWriter and are flushed at once (the protocol above frames its own messages).
/// <see cref="CoalescingUpgradedStream"/> changes only when writes are flushed.
/// </summary>
internal class UpgradedStream(PipeReader reader, PipeWriter writer) : Stream
{
    protected PipeReader Reader { get; } = reader;

    protected PipeWriter Writer { get; } = writer;

    public override bool CanRead => true;

    public override bool CanSeek => false;

    public override bool CanWrite => true;

    public override long Length => throw new NotSupportedException();

    public override long Position
    {
        get => throw new NotSupportedException();
        set => throw new NotSupportedException();
    }

    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        if (buffer.IsEmpty)
        {
            return 0;
        }

        var result = await Reader.ReadAsync(cancellationToken).ConfigureAwait(false);
        return TakeInto(result, buffer.Span, out _, cancellationToken);
    }

    /// <summary>
    /// Copies what <paramref name="result"/> holds into <paramref name="buffer"/> and consumes it;
    /// <paramref name="more"/> says whether bytes are left over (the next read completes at once).
    /// </summary>
    protected int TakeInto(in ReadResult result, Span<byte> buffer, out bool more, CancellationToken cancellationToken)
    {
        var available = result.Buffer;
        var count = (int)Math.Min(available.Length, buffer.Length);
        var slice = available.Slice(0, count);
        slice.CopyTo(buffer);
        more = available.Length > count;
        Reader.AdvanceTo(slice.End);
        if (result.IsCanceled)
        {
            throw new OperationCanceledException(cancellationToken);
        }

        return count;
    }

    public override async Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        await ReadAsync(buffer.AsMemory(offset, count), cancellationToken).ConfigureAwait(false);

    public override async ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
    {
        var result = await Writer.WriteAsync(buffer, cancellationToken).ConfigureAwait(false);
        if (result.IsCompleted)
        {
            throw new IOException("the peer closed the connection");
        }
    }

    public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        WriteAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override Task FlushAsync(CancellationToken cancellationToken) => Writer.FlushAsync(cancellationToken).AsTask();

    public override void Flush() => FlushAsync(CancellationToken.None).GetAwaiter().GetResult();

    public override int Read(byte[] buffer, int offset, int count) => ReadAsync(buffer.AsMemory(offset, count)).AsTask().GetAwaiter().GetResult();

    public override void Write(byte[] buffer, int offset, int count) => WriteAsync(buffer.AsMemory(offset, count)).AsTask().GetAwaiter().GetResult();

    /// <summary>
    /// Disposing ends pending I/O at once: protocols above (WebSocket keep-alive timeouts, aborts)
    /// end a dead stream by disposing it and expect blocked reads and writes to return.
    /// </summary>
    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            Reader.CancelPendingRead();
            Writer.CancelPendingFlush();
        }

        base.Dispose(disposing);
    }

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();
}
