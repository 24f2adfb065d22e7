namespace Gatehouse.Http1.WebSockets;

/// <summary>
/// Sits between the framework's WebSocket and the upgraded connection so that an abort reads as
/// one. The framework aborts a stream (keep-alive timeout, protocol error, Abort()) by disposing
/// it and expects pending reads and writes to end: disposing the inner stream ends them (the
/// upgraded stream cancels its pipe's pending read and flush), and what then surfaces as a
/// cancellation nobody asked for is reported as <see cref="ObjectDisposedException"/>. No token
/// is linked per read or write: that was a token source and two registrations per message.
/// With a <see cref="DeclaredSizeLimit"/>, the incoming frame headers are also followed.
/// </summary>
internal sealed class AbortableStream(Stream inner, DeclaredSizeLimit? sizeLimit = null) : Stream
{
    private int _disposed;

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
        ThrowIfAborted();
        try
        {
            var read = await inner.ReadAsync(buffer, cancellationToken).ConfigureAwait(false);
            // Every byte the framework reads passes here, so frame headers can be followed.
            sizeLimit?.Observe(buffer.Span[..read]);
            return read;
        }
        catch (OperationCanceledException) when (IsAborted && !cancellationToken.IsCancellationRequested)
        {
            throw new ObjectDisposedException(nameof(AbortableStream), "the websocket stream was aborted");
        }
    }

    public override async ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
    {
        ThrowIfAborted();
        try
        {
            await inner.WriteAsync(buffer, cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (IsAborted && !cancellationToken.IsCancellationRequested)
        {
            throw new ObjectDisposedException(nameof(AbortableStream), "the websocket stream was aborted");
        }
    }

    public override Task FlushAsync(CancellationToken cancellationToken)
    {
        ThrowIfAborted();
        return inner.FlushAsync(cancellationToken);
    }

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        WriteAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override int Read(byte[] buffer, int offset, int count) => ReadAsync(buffer.AsMemory(offset, count)).AsTask().GetAwaiter().GetResult();

    public override void Write(byte[] buffer, int offset, int count) => WriteAsync(buffer.AsMemory(offset, count)).AsTask().GetAwaiter().GetResult();

    public override void Flush() => FlushAsync(CancellationToken.None).GetAwaiter().GetResult();

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();

    protected override void Dispose(bool disposing)
    {
        if (disposing && Interlocked.Exchange(ref _disposed, 1) == 0)
        {
            inner.Dispose();
        }

        base.Dispose(disposing);
    }

    private bool IsAborted => Volatile.Read(ref _disposed) != 0;

    private void ThrowIfAborted() => ObjectDisposedException.ThrowIf(IsAborted, this);
}
