using System.Buffers;
using System.IO.Pipelines;
using Gatehouse.Http1.WebSockets;

namespace Gatehouse.Http1;

/// <summary>
/// An upgraded connection for WebSocket frames whose small writes may share one TLS record and one
/// send (issue 22): a small data frame written while input is coming faster than the handler answers
/// (the last read did not wait, or left bytes in the reader) is copied into the pipe unflushed. Held
/// bytes go out when a read has to wait, with any larger or control frame, past
/// <see cref="MaxHeldBytes"/>, and, for a handler that writes and then stops reading, from a
/// thread-pool item queued when holding starts. A gate serializes the pipe writer: that item runs on
/// another thread. Only for a writer of whole server frames, one per write (the framework's sends).
/// </summary>
internal sealed class CoalescingUpgradedStream(PipeReader reader, PipeWriter writer) : UpgradedStream(reader, writer), IThreadPoolWorkItem
{
    /// <summary>Larger writes are flushed at once: they fill records by themselves.</summary>
    internal const int MaxSmallWrite = 4 * 1024;

    /// <summary>About one TLS record's worth (16 KiB of plaintext).</summary>
    internal const int MaxHeldBytes = 16 * 1024;

    private readonly SemaphoreSlim _gate = new(1, 1);
    private volatile bool _inputWaiting; // the last read found input ready or left some in the reader
    private volatile bool _aborted; // disposed: pending I/O ends, nothing more is flushed
    private int _held; // bytes written and not flushed; under the gate
    private bool _netQueued; // under the gate
    private bool _released; // under the gate: the pipes are the connection's again

    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        if (buffer.IsEmpty)
        {
            return 0;
        }

        var backlog = true; // input came without waiting: the peer is sending faster than we answer
        if (!Reader.TryRead(out var result))
        {
            var read = Reader.ReadAsync(cancellationToken);
            if (!read.IsCompleted)
            {
                // This read waits for the peer, which may be waiting for what we hold. The flush is
                // not awaited: a read must not stall behind a peer that is slow to take our output.
                backlog = false;
                if (Volatile.Read(ref _held) > 0)
                {
                    _ = FlushHeldAsync(fromNet: false);
                }
            }

            result = await read.ConfigureAwait(false);
        }

        _inputWaiting = false;
        var count = TakeInto(result, buffer.Span, out var more, cancellationToken);
        _inputWaiting = more || backlog;
        return count;
    }

    public override ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
    {
        if (_inputWaiting && buffer.Length <= MaxSmallWrite && IsDataFrame(buffer.Span) && _gate.Wait(0, CancellationToken.None))
        {
            var held = false;
            try
            {
                if (!_released && !_aborted && _held + buffer.Length <= MaxHeldBytes)
                {
                    Writer.Write(buffer.Span);
                    _held += buffer.Length;
                    held = true;
                    if (!_netQueued)
                    {
                        _netQueued = true;
                        ThreadPool.UnsafeQueueUserWorkItem(this, preferLocal: true);
                    }
                }
            }
            finally
            {
                _gate.Release();
            }

            if (held)
            {
                WebSocketMetrics.WriteHeld();
                return ValueTask.CompletedTask;
            }
        }

        return WriteAndFlushAsync(buffer, cancellationToken);
    }

    /// <summary>A no-op (so is <see cref="UpgradedStream.Flush"/>): every write is flushed or held under this stream's own guarantee.</summary>
    public override Task FlushAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    /// <summary>The safety net: flushes what a handler wrote before it stopped reading.</summary>
    void IThreadPoolWorkItem.Execute() => _ = FlushHeldAsync(fromNet: true);

    /// <summary>
    /// The endpoint is done with the stream (after disposing it): waits out a flush in flight, then
    /// leaves the pipes to the connection, which completes them; a late safety net touches nothing.
    /// </summary>
    internal async ValueTask ReleaseAsync()
    {
        await _gate.WaitAsync().ConfigureAwait(false);
        _released = true;
        _gate.Release();
    }

    /// <summary>As <see cref="UpgradedStream"/>, and nothing held is flushed after it.</summary>
    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            _aborted = true;
        }

        base.Dispose(disposing);
    }

    /// <summary>A server frame's first byte: opcodes 0x0-0x7 carry data, 0x8-0xF are control (close, ping, pong) and go out at once.</summary>
    private static bool IsDataFrame(ReadOnlySpan<byte> frame) => frame.Length >= 2 && (frame[0] & 0x08) == 0;

    private ValueTask EnterAsync(CancellationToken cancellationToken) =>
        _gate.Wait(0, CancellationToken.None) ? ValueTask.CompletedTask : new ValueTask(_gate.WaitAsync(cancellationToken));

    private async ValueTask WriteAndFlushAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken)
    {
        await EnterAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            ObjectDisposedException.ThrowIf(_released, this);
            await base.WriteAsync(buffer, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            _held = 0;
            _gate.Release();
        }
    }

    /// <summary>Flushes what is held; nobody awaits it, so a failure shows in the handler's next read or write instead.</summary>
    private async Task FlushHeldAsync(bool fromNet)
    {
        try
        {
            await EnterAsync(CancellationToken.None).ConfigureAwait(false);
            try
            {
                if (fromNet)
                {
                    _netQueued = false;
                }

                if (_held > 0 && !_released && !_aborted)
                {
                    await Writer.FlushAsync().ConfigureAwait(false);
                }
            }
            finally
            {
                _held = 0;
                _gate.Release();
            }
        }
#pragma warning disable CA1031 // see the summary
        catch (Exception)
#pragma warning restore CA1031
        {
        }
    }
}
