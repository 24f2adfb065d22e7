using System.Net.Sockets;

namespace Gatehouse.Proxy;

/// <summary>
/// While the upstream has not answered, nothing reads from or writes to the client, so a client
/// that reset or closed would go unnoticed until the upstream answers or the header timeout ends —
/// holding an upstream connection (one of a node's few) all that time (issue 10's abort matrix
/// found this). This polls the client's socket instead, as nginx does: readable with nothing to
/// read means it closed (FIN) or reset. No read is issued, so the connection's pipe and TLS state
/// are never touched; bytes waiting (a pipelined request, a TLS record) keep it counted as present.
/// It also keeps the answer's deadline (<see cref="ArmAfter"/>), checked on the same ticks.
/// One per upstream connection, serving each of its forwards in turn; the ticks are the
/// <see cref="UpstreamWaitSweep"/>'s, so a forward that waits changes no timer (issue 22).
/// </summary>
internal sealed class ClientDepartureWatch : IDisposable
{
    private const long NoDeadline = long.MaxValue;

    private readonly Lock _lock = new();
    private readonly UpstreamWaitSweep _sweep;
    private Socket? _client;
    private IdleDeadline? _onFire;
    private long _deadline = NoDeadline; // on UpstreamWaitSweep.Now's clock; written without the lock (the pump arms it)
    private volatile bool _waiting;
    private bool _fired;
    private bool _clientGone;
    private bool _registered;
    private bool _disposed;

    public ClientDepartureWatch(UpstreamWaitSweep? sweep = null) => _sweep = sweep ?? UpstreamWaitSweep.Shared;

    /// <summary>True once the client was seen gone (and the deadline was fired), until the next <see cref="Start"/>.</summary>
    public bool ClientGone
    {
        get
        {
            lock (_lock)
            {
                return _clientGone;
            }
        }
    }

    /// <summary>
    /// Starts a wait: <paramref name="onFire"/> is fired when <paramref name="client"/> (if any) leaves,
    /// or when a deadline set by <see cref="ArmAfter"/> passes, whichever comes first.
    /// </summary>
    public void Start(Socket? client, IdleDeadline onFire)
    {
        lock (_lock)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            if (!_registered)
            {
                _sweep.Register(this);
                _registered = true;
            }

            _client = client;
            _onFire = onFire;
            _fired = false;
            _clientGone = false;
            Volatile.Write(ref _deadline, NoDeadline);
            if (!_waiting)
            {
                _waiting = true;
                _sweep.Enter();
            }
        }
    }

    /// <summary>
    /// The wait started fails <paramref name="timeout"/> from now (up to one sweep period later).
    /// From any thread (the upload pump arms the answer's deadline when the upload ends); after
    /// <see cref="Stop"/> it changes nothing that a later <see cref="Start"/> keeps.
    /// </summary>
    public void ArmAfter(TimeSpan timeout)
    {
        var deadline = timeout.TotalMilliseconds < long.MaxValue / 4
            ? UpstreamWaitSweep.Now + (long)Math.Ceiling(timeout.TotalMilliseconds)
            : NoDeadline;
        Volatile.Write(ref _deadline, deadline);
    }

    /// <summary>Ends the wait; a tick already looking finds nothing to fire.</summary>
    public void Stop()
    {
        lock (_lock)
        {
            _client = null;
            _onFire = null;
            Volatile.Write(ref _deadline, NoDeadline);
            if (_waiting)
            {
                _waiting = false;
                _sweep.Leave();
            }
        }
    }

    public void Dispose()
    {
        Stop();
        lock (_lock)
        {
            _disposed = true;
            if (_registered)
            {
                _sweep.Unregister(this);
                _registered = false;
            }
        }
    }

    /// <summary>For the sweep: fires the wait if its deadline passed by <paramref name="now"/> or its client left.</summary>
    internal void Check(long now)
    {
        if (!_waiting)
        {
            return;
        }

        lock (_lock)
        {
            if (!_waiting || _fired || _onFire is not { } onFire)
            {
                return;
            }

            if (now >= Volatile.Read(ref _deadline))
            {
                _fired = true;
            }
            else if (_client is { } client && ClientPresence.HasLeft(client))
            {
                _fired = true;
                _clientGone = true;
            }
            else
            {
                return;
            }

            // Under the lock, so the forward cannot Stop and start the next one on this connection
            // before this reaches the deadline it meant (the continuation it may run inline re-enters it).
            onFire.Cancel();
        }
    }
}
