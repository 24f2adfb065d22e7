namespace Gatehouse.Proxy;

/// <summary>
/// One timer for every upstream connection's <see cref="ClientDepartureWatch"/>: a tick about once a
/// <see cref="Period"/> polls the clients of the forwards that wait and fires the answer deadlines
/// that have passed. A timer per connection, re-armed for each forward that waits for its answer,
/// and a deadline re-timed twice per forward, moved timers under the runtime's timer lock four
/// times per proxied GET (issue 22: with their locks and links ~1% of the gateway's profile samples).
/// A watch now only marks itself as waiting. The price: an answer deadline fires up to one period
/// late, as a client departure was already seen up to one period late.
/// The timer runs only while some forward waits, and a moment after, so an idle device is not woken.
/// </summary>
internal sealed class UpstreamWaitSweep
{
    /// <summary>The process's sweep, ticking four times a second while forwards wait.</summary>
    public static readonly UpstreamWaitSweep Shared = new(TimeSpan.FromMilliseconds(250));

    /// <summary>Ticks with nothing waiting before the timer stops.</summary>
    private const int IdleTicksBeforeStop = 4;

    private readonly Lock _lock = new();
    private readonly Timer _timer;
    private ClientDepartureWatch[] _watches = []; // copied on change (connections come and go rarely), read by ticks without the lock
    private int _waiting;                         // watches between Enter and Leave
    private volatile bool _running;
    private int _idleTicks;

    public UpstreamWaitSweep(TimeSpan period)
    {
        Period = period;
        _timer = new Timer(static state => ((UpstreamWaitSweep)state!).Tick(Environment.TickCount64), this, Timeout.Infinite, Timeout.Infinite);
    }

    /// <summary>How often waits are looked at: the most a deadline or a departure is seen late.</summary>
    public TimeSpan Period { get; }

    /// <summary>Milliseconds on the clock the deadlines are kept in.</summary>
    public static long Now => Environment.TickCount64;

    /// <summary>True while the timer ticks.</summary>
    internal bool IsRunning => _running;

    /// <summary>How many watches are registered (one per upstream connection that has waited).</summary>
    internal int Count => Volatile.Read(ref _watches).Length;

    public void Register(ClientDepartureWatch watch)
    {
        lock (_lock)
        {
            _watches = [.. _watches, watch];
        }
    }

    public void Unregister(ClientDepartureWatch watch)
    {
        lock (_lock)
        {
            var index = Array.IndexOf(_watches, watch);
            if (index >= 0)
            {
                _watches = [.. _watches.AsSpan(0, index), .. _watches.AsSpan(index + 1)];
            }
        }
    }

    /// <summary>A watch starts waiting: the timer must be running.</summary>
    public void Enter()
    {
        // The increment is a full fence: either a tick about to stop sees this wait, or this sees it stopping.
        Interlocked.Increment(ref _waiting);
        if (!_running)
        {
            lock (_lock)
            {
                StartTimer();
            }
        }
    }

    /// <summary>A watch stopped waiting.</summary>
    public void Leave() => Interlocked.Decrement(ref _waiting);

    /// <summary>Looks at every waiting watch as of <paramref name="now"/> (<see cref="Now"/>'s clock).</summary>
    internal void Tick(long now)
    {
        lock (_lock)
        {
            if (Volatile.Read(ref _waiting) == 0)
            {
                if (++_idleTicks >= IdleTicksBeforeStop && _running)
                {
                    _running = false;
                    Interlocked.MemoryBarrier();
                    if (Volatile.Read(ref _waiting) == 0)
                    {
                        _timer.Change(Timeout.Infinite, Timeout.Infinite);
                        return;
                    }

                    StartTimer(); // a wait began as it was stopping
                }

                return;
            }

            _idleTicks = 0;
        }

        // Outside the lock: firing a deadline can run the forward's continuation inline, which may
        // close its connection, and that unregisters the watch.
        foreach (var watch in Volatile.Read(ref _watches))
        {
            watch.Check(now);
        }
    }

    private void StartTimer()
    {
        if (!_running)
        {
            _running = true;
            _idleTicks = 0;
            _timer.Change(Period, Period);
        }
    }
}
