namespace Gatehouse.Http1;

/// <summary>
/// One timer for every connection's read deadline, as Kestrel's heartbeat: a read only stores its
/// deadline in its <see cref="ConnectionInput"/>, and a tick about once a <see cref="Period"/> cuts
/// the reads whose deadline has passed. A per-connection timer re-armed per read cost two timer-queue
/// operations under the queue's lock on every read, and a CancellationTokenSource, a timer and a
/// registration held by each idle connection (issue 9). The price: a timeout fires up to one period late.
/// </summary>
internal sealed class DeadlineSweep
{
    /// <summary>The process's sweep, ticking once a second while any connection is registered.</summary>
    public static readonly DeadlineSweep Shared = new(TimeSpan.FromSeconds(1));

    private readonly Lock _lock = new();
    private readonly Timer _timer;
    private ConnectionInput? _head; // the registered inputs, linked through their own fields: no node per connection
    private int _count;

    public DeadlineSweep(TimeSpan period)
    {
        Period = period;
        _timer = new Timer(static state => ((DeadlineSweep)state!).Tick(Environment.TickCount64), this, Timeout.Infinite, Timeout.Infinite);
    }

    /// <summary>How often deadlines are checked: the most a timeout can fire late.</summary>
    public TimeSpan Period { get; }

    /// <summary>Milliseconds on the clock the deadlines are kept in.</summary>
    public static long Now => Environment.TickCount64;

    public void Add(ConnectionInput input)
    {
        lock (_lock)
        {
            input.SweepNext = _head;
            if (_head is not null)
            {
                _head.SweepPrevious = input;
            }

            _head = input;
            if (_count++ == 0)
            {
                _timer.Change(Period, Period); // no ticks at all in a process with no connection
            }
        }
    }

    public void Remove(ConnectionInput input)
    {
        lock (_lock)
        {
            if (input.SweepPrevious is null && !ReferenceEquals(_head, input))
            {
                return; // not registered (or removed already)
            }

            if (input.SweepPrevious is { } previous)
            {
                previous.SweepNext = input.SweepNext;
            }
            else
            {
                _head = input.SweepNext;
            }

            if (input.SweepNext is { } next)
            {
                next.SweepPrevious = input.SweepPrevious;
            }

            input.SweepPrevious = input.SweepNext = null;
            if (--_count == 0)
            {
                _timer.Change(Timeout.Infinite, Timeout.Infinite);
            }
        }
    }

    /// <summary>Cuts every read whose deadline is at or before <paramref name="now"/>.</summary>
    internal void Tick(long now)
    {
        List<ConnectionInput>? expired = null;
        lock (_lock)
        {
            for (var input = _head; input is not null; input = input.SweepNext)
            {
                if (input.TryMarkExpired(now))
                {
                    (expired ??= []).Add(input);
                }
            }
        }

        // Outside the lock: cutting a read can run the connection's continuation inline, and that
        // may close the connection, which removes it from this list.
        if (expired is not null)
        {
            foreach (var input in expired)
            {
                input.Interrupt();
            }
        }
    }
}
