namespace Gatehouse.Proxy;

/// <summary>
/// A re-armable deadline that the caller's token also cancels: armed around each read or write, so
/// only silence longer than the limit fails (a live feed with heartbeats never does). One lives as
/// long as its upstream connection and serves every forward on it (<see cref="Attach"/> to the
/// forward's token, <see cref="Detach"/> after), so a keep-alive forward allocates no token source
/// or timer (issue 9). A fired deadline is replaced when its token is next taken; its connection is discarded anyway.
/// An operation that may finish at once takes <see cref="Unarmed"/> and arms only when it goes pending
/// (<see cref="ArmPending"/>): a send to a keep-alive upstream or a read of bytes already buffered then
/// costs no timer change and no link to the caller's token (issue 22: re-timing and linking three
/// deadlines per proxied GET was ~2% of the gateway's profile samples).
/// </summary>
internal sealed class IdleDeadline : IDisposable
{
    private CancellationTokenSource _source = new();
    private CancellationToken _outer;
    private CancellationTokenRegistration _link;
    private bool _linked;
    private bool _armed;

    /// <summary>True when the deadline (not the caller) cancelled.</summary>
    public bool Expired => _source.IsCancellationRequested && !_outer.IsCancellationRequested;

    /// <summary>Starts a forward: the caller's <paramref name="outer"/> token now cancels whatever waits on this deadline.</summary>
    public void Attach(CancellationToken outer)
    {
        _outer = outer;
        if (_source.IsCancellationRequested)
        {
            Replace();
        }
    }

    /// <summary>Ends a forward: disarmed and unlinked from its token, ready for the next.</summary>
    public void Detach()
    {
        Unlink();
        Disarm();
        _outer = default;
    }

    /// <summary>
    /// The token for a wait that may outlast the caller, linked to the caller's token now: the answer
    /// wait, whose deadline the connection's <see cref="ClientDepartureWatch"/> keeps and fires
    /// (<see cref="Cancel()"/>) on its sweep's ticks.
    /// </summary>
    public CancellationToken Waiting()
    {
        EnsureLinked();
        return _source.Token;
    }

    /// <summary>
    /// The token for an operation that may complete at once; call <see cref="ArmPending"/> if it does not.
    /// Disarmed after every use, so only a fired deadline needs replacing here.
    /// </summary>
    public CancellationToken Unarmed()
    {
        if (_source.IsCancellationRequested)
        {
            Replace();
        }

        return _source.Token;
    }

    /// <summary>Starts the countdown for the operation just started with <see cref="Unarmed"/>'s token, which is pending.</summary>
    public void ArmPending(TimeSpan timeout)
    {
        EnsureLinked();
        _source.CancelAfter(timeout);
        _armed = true;
    }

    /// <summary>Fires the deadline now (the answer's deadline passed, or the client left while it was awaited).</summary>
    public void Cancel() => Cancel(_source);

    public void Disarm()
    {
        if (_armed && !_source.IsCancellationRequested)
        {
            _source.CancelAfter(Timeout.InfiniteTimeSpan);
        }

        _armed = false;
    }

    public void Dispose()
    {
        _link.Dispose();
        _source.Dispose();
    }

    private void Replace()
    {
        Unlink();
        _source.Dispose();
        _source = new CancellationTokenSource();
        _armed = false;
    }

    // Linked only once something waits on the deadline: an operation that completed at once needs no
    // caller's cancellation. The long-lived token (the server's stopping token) keeps freed registration
    // nodes, so re-linking allocates nothing.
    private void EnsureLinked()
    {
        if (!_linked)
        {
            _link = _outer.UnsafeRegister(static source => Cancel((CancellationTokenSource)source!), _source);
            _linked = true;
        }
    }

    private void Unlink()
    {
        if (_linked)
        {
            _link.Dispose();
            _link = default;
            _linked = false;
        }
    }

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
