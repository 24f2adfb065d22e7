using System.Buffers;
using System.IO.Pipelines;

namespace Gatehouse.Http1;

/// <summary>
/// Shared plumbing of the two framed bodies: reads from the connection with the body timeout,
/// and sends <c>100 Continue</c> before the first read when the client is waiting for it.
/// </summary>
internal abstract class FramedBody : RequestBody
{
    private readonly ConnectionInput _input;
    private readonly TimeSpan _idleTimeout;
    private Func<ValueTask>? _beforeFirstRead;

    protected FramedBody(ConnectionInput input, TimeSpan idleTimeout, Func<ValueTask>? beforeFirstRead)
    {
        _input = input;
        _idleTimeout = idleTimeout;
        _beforeFirstRead = beforeFirstRead;
    }

    /// <summary>True when nothing was read yet and the client still waits for 100 Continue.</summary>
    public bool ContinuePending => _beforeFirstRead is not null;

    protected PipeReader Reader => _input.Reader;

    /// <summary>The last read saw the end of the input: what is buffered now is all there will ever be.</summary>
    protected bool InputCompleted { get; private set; }

    protected async ValueTask<ReadOnlySequence<byte>> ReadMoreAsync(CancellationToken cancellationToken)
    {
        if (_beforeFirstRead is { } send)
        {
            _beforeFirstRead = null;
            await send().ConfigureAwait(false);
        }

        ReadResult result;
        try
        {
            cancellationToken.ThrowIfCancellationRequested();
            result = await _input.ReadAsync(_idleTimeout).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
            throw new RequestRejectedException(RejectReason.BodyTimeout);
        }

        if (result.IsCanceled)
        {
            throw new OperationCanceledException(cancellationToken);
        }

        InputCompleted = result.IsCompleted;
        if (result.IsCompleted && result.Buffer.IsEmpty)
        {
            throw new RequestRejectedException(RejectReason.UnexpectedEndOfBody);
        }

        return result.Buffer;
    }

    /// <summary>
    /// Reads and discards what is left of the body, up to <paramref name="maxBytes"/>, so the
    /// connection can serve the next request. False when the body was too long to drain.
    /// </summary>
    public async ValueTask<bool> DrainAsync(long maxBytes, ArrayPool<byte> pool, CancellationToken cancellationToken)
    {
        var scratch = pool.Rent(16 * 1024);
        try
        {
            var drained = 0L;
            while (!IsComplete)
            {
                var read = await ReadAsync(scratch, cancellationToken).ConfigureAwait(false);
                drained += read;
                if (drained > maxBytes)
                {
                    return false;
                }
            }

            return true;
        }
        finally
        {
            pool.Return(scratch);
        }
    }
}
