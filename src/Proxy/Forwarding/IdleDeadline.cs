namespace Gatehouse.Proxy;

/// <summary>
/// A re-armable deadline linked to the caller's token: armed around each read or write, so only
/// silence longer than the limit fails (a live feed with heartbeats never does). One per
/// operation; a fired deadline is spent, which is fine since its connection is then discarded.
/// </summary>
internal sealed class IdleDeadline : IDisposable
{
    private readonly CancellationToken _outer;
    private CancellationTokenSource _source;

    public IdleDeadline(CancellationToken outer)
    {
        _outer = outer;
        _source = CancellationTokenSource.CreateLinkedTokenSource(outer);
    }

    public CancellationToken Token => _source.Token;

    /// <summary>True when the deadline (not the caller) cancelled.</summary>
    public bool Expired => _source.IsCancellationRequested && !_outer.IsCancellationRequested;

    public CancellationToken Arm(TimeSpan timeout)
    {
        if (!_source.TryReset())
        {
            _source.Dispose();
            _source = CancellationTokenSource.CreateLinkedTokenSource(_outer);
        }

        _source.CancelAfter(timeout);
        return _source.Token;
    }

    public void Disarm()
    {
        if (!_source.IsCancellationRequested)
        {
            _source.CancelAfter(Timeout.InfiniteTimeSpan);
        }
    }

    public void Dispose() => _source.Dispose();
}
