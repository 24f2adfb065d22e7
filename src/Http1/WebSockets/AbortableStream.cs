namespace Gatehouse.Http1.WebSockets;

/// <summary>
/// Sits between the framework's WebSocket and the upgraded connection so that disposing it cancels
/// the I/O in flight. The framework aborts a stream (keep-alive timeout, protocol error, Abort())
/// by disposing its stream and expects pending reads and writes to end; the connection's upgraded
/// stream does not end them on dispose, so a dead peer's pending read would otherwise wait forever.
/// </summary>
internal sealed class AbortableStream(Stream inner) : Stream
{
    private readonly CancellationTokenSource _aborted = new();
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
        using var linked = Link(cancellationToken);
        try
        {
            return await inner.ReadAsync(buffer, linked.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (_aborted.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
        {
            throw new ObjectDisposedException(nameof(AbortableStream), "the websocket stream was aborted");
        }
    }

    public override async ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
    {
        using var linked = Link(cancellationToken);
        try
        {
            await inner.WriteAsync(buffer, linked.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (_aborted.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
        {
            throw new ObjectDisposedException(nameof(AbortableStream), "the websocket stream was aborted");
        }
    }

    public override async Task FlushAsync(CancellationToken cancellationToken)
    {
        using var linked = Link(cancellationToken);
        await inner.FlushAsync(linked.Token).ConfigureAwait(false);
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
            _aborted.Cancel();
            inner.Dispose();
            // _aborted is not disposed: a racing Link() or catch filter may still read it, and it holds no timer.
        }

        base.Dispose(disposing);
    }

    private CancellationTokenSource Link(CancellationToken cancellationToken)
    {
        ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);
        return CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, _aborted.Token);
    }
}
