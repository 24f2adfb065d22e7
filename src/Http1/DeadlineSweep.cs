namespace Gatehouse.Http1;

/// <summary>
/// One timer for every connection's read deadline, as Kestrel's heartbeat: a read only stores its
/// deadline in its cell here, and a tick about once a <see cref="Period"/> cuts the reads whose
/// deadline has passed. A per-connection timer re-armed per read cost two timer-queue operations
/// under the queue's lock on every read, and a CancellationTokenSource, a timer and a registration
/// held by each idle connection (issue 9). The price: a timeout fires up to one period late.
/// The deadlines sit side by side in arrays of cells, not in the connections' own objects: a tick
/// over 19,000 idle connections walked from object to object through a 70 MB heap, a cache miss
/// each, and held the server's one CPU for 2.5 ms every second (issue 22, item 3); a scan of
/// 19,000 adjacent cells is a few microseconds. A connection object is touched only when its read expired.
/// </summary>
internal sealed class DeadlineSweep
{
    /// <summary>The process's sweep, ticking once a second while any connection is registered.</summary>
    public static readonly DeadlineSweep Shared = new(TimeSpan.FromSeconds(1));

    /// <summary>A cell's value when no read is in flight (and the value of every free cell).</summary>
    internal const long NoDeadline = long.MaxValue;

    /// <summary>A cell's value once the tick found its read past the deadline.</summary>
    internal const long Expired = long.MinValue;

    /// <summary>Cells per chunk: chunks never move, so a read writes its cell without the lock.</summary>
    internal const int ChunkSize = 1024;

    /// <summary>Where a removed input's late writes land: read by no tick, shared by every removed input.</summary>
    internal static readonly long[] DetachedCells = new long[ChunkSize];

    private readonly Lock _lock = new();
    private readonly Timer _timer;
    private readonly List<long[]> _cells = [];               // the deadlines, ChunkSize to a chunk
    private readonly List<ConnectionInput?[]> _owners = [];  // who holds each cell, read only for an expired one
    private int[] _free = new int[16];                        // cells given back, reused last-in first-out
    private int _freeCount;
    private int _used;                                        // cells ever handed out: the tick scans these
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

    /// <summary>Registers <paramref name="input"/> and hands it a cell, set to <see cref="NoDeadline"/>.</summary>
    public void Add(ConnectionInput input)
    {
        lock (_lock)
        {
            int slot;
            if (_freeCount > 0)
            {
                slot = _free[--_freeCount];
            }
            else
            {
                slot = _used++;
                if (slot / ChunkSize == _cells.Count)
                {
                    _cells.Add(new long[ChunkSize]);
                    _owners.Add(new ConnectionInput?[ChunkSize]);
                }
            }

            var chunk = _cells[slot / ChunkSize];
            var index = slot % ChunkSize;
            Volatile.Write(ref chunk[index], NoDeadline);
            _owners[slot / ChunkSize][index] = input;
            input.TakeCell(chunk, index, slot);
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
            var slot = input.Slot;
            if (slot < 0 || !ReferenceEquals(_owners[slot / ChunkSize][slot % ChunkSize], input))
            {
                return; // not registered (or removed already)
            }

            // The input's writes go to the detached cells from now on, so the cell can serve another.
            input.TakeCell(DetachedCells, slot % ChunkSize, -1);
            _owners[slot / ChunkSize][slot % ChunkSize] = null;
            Volatile.Write(ref _cells[slot / ChunkSize][slot % ChunkSize], NoDeadline);
            if (_freeCount == _free.Length)
            {
                Array.Resize(ref _free, _free.Length * 2);
            }

            _free[_freeCount++] = slot;
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
            for (var start = 0; start < _used; start += ChunkSize)
            {
                var cells = _cells[start / ChunkSize];
                var end = Math.Min(ChunkSize, _used - start);
                for (var i = 0; i < end; i++)
                {
                    var deadline = Volatile.Read(ref cells[i]);
                    if (deadline <= now && deadline != Expired
                        && Interlocked.CompareExchange(ref cells[i], Expired, deadline) == deadline
                        && _owners[start / ChunkSize][i] is { } input)
                    {
                        (expired ??= []).Add(input);
                    }
                }
            }
        }

        // Outside the lock: cutting a read can run the connection's continuation inline, and that
        // may close the connection, which removes it from the sweep.
        if (expired is not null)
        {
            foreach (var input in expired)
            {
                input.Interrupt();
            }
        }
    }
}
