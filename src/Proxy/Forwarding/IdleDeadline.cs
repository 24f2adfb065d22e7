namespace Gatehouse.Proxy;

/// <summary>
/// A re-armable deadline that the caller's token also cancels: armed around each read or write, so
/// only silence longer than the limit fails (a live feed with heartbeats never does). One lives as
/// long as its upstream connection and serves every forward on it (<see cref="Attach"/> to the
/// forward's token, <see cref="Detach"/> after), so a keep-alive forward allocates no token source
/// or timer (issue 9). A fired deadline is replaced on the next arm; its connection is discarded anyway.
/// </summary>
internal sealed class IdleDeadline : IDisposable
{
    private CancellationTokenSource _source = new();
    private CancellationToken _outer;
    private CancellationTokenRegistration _link;

    public CancellationToken Token => _source.Token;

    /// <summary>True when the deadline (not the caller) cancelled.</summary>
    public bool Expired => _source.IsCancellationRequested && !_outer.IsCancellationRequested;

    /// <summary>Starts a forward: the caller's <paramref name="outer"/> token now cancels this deadline too.</summary>
    public void Attach(CancellationToken outer)
    {
        _outer = outer;
        if (_source.IsCancellationRequested)
        {
            _source.Dispose();
            _source = new CancellationTokenSource();
        }

        Link();
    }

    /// <summary>Ends a forward: disarmed and unlinked from its token, ready for the next.</summary>
    public void Detach()
    {
        _link.Dispose();
        _link = default;
        Disarm();
        _outer = default;
    }

    public CancellationToken Arm(TimeSpan timeout)
    {
        // Disarmed after every use, so only a fired deadline needs replacing; CancelAfter re-times the rest.
        if (_source.IsCancellationRequested)
        {
            _link.Dispose();
            _source.Dispose();
            _source = new CancellationTokenSource();
            Link();
        }

        _source.CancelAfter(timeout);
        return _source.Token;
    }

    /// <summary>
    /// (Re)starts the countdown without resetting, for a deadline someone is already waiting on
    /// (a reset would drop their registration): the answer wait's deadline once the upload ends.
    /// </summary>
    public void CancelAfter(TimeSpan timeout)
    {
        try
        {
            _source.CancelAfter(timeout);
        }
        catch (ObjectDisposedException)
        {
            // The connection already closed.
        }
    }

    /// <summary>Fires the deadline now (the client left while the answer was awaited).</summary>
    public void Cancel() => Cancel(_source);

    public void Disarm()
    {
        if (!_source.IsCancellationRequested)
        {
            _source.CancelAfter(Timeout.InfiniteTimeSpan);
        }
    }

    public void Dispose()
    {
        _link.Dispose();
        _source.Dispose();
    }

    // The long-lived token (the server's stopping token) keeps freed registration nodes: re-linking allocates nothing.
    private void Link() =>
        _link = _outer.UnsafeRegister(static source => Cancel((CancellationTokenSource)source!), _source);

    private static void Cancel(CancellationTokenSource source)
    {
        try
        {
            source.Cancel();
        }
        catch (ObjectDisposedException)
        {
            // The connection closed as the caller gave up: nothing left to cancel.
        }
    }
}
