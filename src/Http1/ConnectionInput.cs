using System.IO.Pipelines;
using System.Runtime.CompilerServices;

namespace Gatehouse.Http1;

/// <summary>
/// The connection's read side: a <see cref="PipeReader"/> whose reads are bounded by a deadline.
/// One timer per connection is re-armed per read, so a stalled client costs no thread and is
/// closed when its time is up.
/// </summary>
internal sealed class ConnectionInput : IDisposable
{
    private CancellationTokenSource _deadline = new();

    public ConnectionInput(PipeReader reader)
    {
        Reader = reader;
    }

    public PipeReader Reader { get; }

    /// <summary>Reads with a deadline; a passed deadline surfaces as <see cref="TimeoutException"/>.</summary>
    // Awaited once per request on the hot path: a pooled box instead of a new one each time.
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    public async ValueTask<ReadResult> ReadAsync(TimeSpan timeout)
    {
        if (!_deadline.TryReset())
        {
            _deadline.Dispose();
            _deadline = new CancellationTokenSource();
        }

        _deadline.CancelAfter(timeout);
        try
        {
            return await Reader.ReadAsync(_deadline.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (_deadline.IsCancellationRequested)
        {
            throw new TimeoutException();
        }
        finally
        {
            _deadline.CancelAfter(Timeout.InfiniteTimeSpan);
        }
    }

    public void Dispose() => _deadline.Dispose();
}
