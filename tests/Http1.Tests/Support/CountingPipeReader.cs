using System.IO.Pipelines;

namespace Gatehouse.Http1.Tests.Support;

/// <summary>A pass-through reader that counts ReadAsync calls, to catch a body that spins instead of waiting.</summary>
internal sealed class CountingPipeReader(PipeReader inner) : PipeReader
{
    private int _reads;

    public int Reads => Volatile.Read(ref _reads);

    public override void AdvanceTo(SequencePosition consumed) => inner.AdvanceTo(consumed);

    public override void AdvanceTo(SequencePosition consumed, SequencePosition examined) => inner.AdvanceTo(consumed, examined);

    public override void CancelPendingRead() => inner.CancelPendingRead();

    public override void Complete(Exception? exception = null) => inner.Complete(exception);

    public override ValueTask<ReadResult> ReadAsync(CancellationToken cancellationToken = default)
    {
        if (Interlocked.Increment(ref _reads) > 10_000)
        {
            // A body that re-reads the same bytes forever would hang the test thread: fail loudly instead.
            throw new InvalidOperationException("ReadAsync called 10,000 times: the reader is spinning");
        }

        return inner.ReadAsync(cancellationToken);
    }

    public override bool TryRead(out ReadResult result) => inner.TryRead(out result);
}
