namespace Gatehouse.Proxy;

/// <summary>
/// The bounded keep-alive pool of one node. A slot is held by every connection leased out;
/// idle connections keep no slot but can only exist by having been leased, so idle + busy never
/// exceeds <see cref="UpstreamOptions.MaxConnectionsPerNode"/>. Waiters queue on the semaphore.
/// Idle connections are reused most-recent-first (warm sockets) and evicted after
/// <see cref="UpstreamOptions.PooledIdleTime"/>.
/// </summary>
internal sealed class NodeConnections : IDisposable
{
    /// <summary>
    /// Below this idle time a retry-safe request skips the poll (a syscall per reuse): nodes close
    /// idle keep-alive connections after seconds, so a stale one this young is rare, and costs a retry.
    /// </summary>
    internal const long UncheckedReuseMs = 1000;

    private readonly Stack<UpstreamConnection> _idle = new();
    private readonly Lock _lock = new();
    private readonly SemaphoreSlim _slots;
    private readonly long _idleLimitMs;
    private readonly int _maxSlots;
    private int _waiting;
    private bool _disposed;

    public NodeConnections(UpstreamNode node, UpstreamOptions options)
    {
        Node = node;
        _maxSlots = options.MaxConnectionsPerNode;
        _slots = new SemaphoreSlim(_maxSlots, _maxSlots);
        _idleLimitMs = (long)options.PooledIdleTime.TotalMilliseconds;
        UpstreamTag = new("upstream", node.ToString());
    }

    public UpstreamNode Node { get; }

    /// <summary>The metrics tag of this node, made once: measurements on the hot path allocate nothing.</summary>
    public KeyValuePair<string, object?> UpstreamTag { get; }

    /// <summary>Requests waiting for a slot now.</summary>
    public int WaitingCount => Volatile.Read(ref _waiting);

    /// <summary>Slots leased now (connections connecting or carrying a request).</summary>
    public int InUseCount => _maxSlots - _slots.CurrentCount;

    public int IdleCount
    {
        get
        {
            lock (_lock)
            {
                return _idle.Count;
            }
        }
    }

    /// <summary>
    /// Waits for a slot (queued behind earlier waiters). False when the wait timed out. Only a
    /// request that finds every slot held counts as a wait in the metrics (with its duration).
    /// </summary>
    public async ValueTask<bool> WaitForSlotAsync(TimeSpan timeout, CancellationToken cancellationToken)
    {
        if (_slots.Wait(0, CancellationToken.None))
        {
            return true;
        }

        var started = System.Diagnostics.Stopwatch.GetTimestamp();
        Interlocked.Increment(ref _waiting);
        bool acquired;
        try
        {
            acquired = await _slots.WaitAsync(timeout, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            Interlocked.Decrement(ref _waiting);
        }

        ProxyMetrics.Waits.Add(1, UpstreamTag, acquired ? ProxyMetrics.ResultOk : ProxyMetrics.ResultTimeout);
        ProxyMetrics.WaitDuration.Record(System.Diagnostics.Stopwatch.GetElapsedTime(started).TotalSeconds, UpstreamTag);
        return acquired;
    }

    public void ReleaseSlot() => _slots.Release();

    /// <summary>
    /// Pops a live idle connection, or null. Dead or expired ones found on the way are collected in
    /// <paramref name="discard"/> (made when there is one). For a <paramref name="retrySafe"/> request
    /// a plain connection idle under <see cref="UncheckedReuseMs"/> is taken without its poll: if the
    /// node closed it, the request fails before any answer byte and is sent again on a fresh one.
    /// </summary>
    public UpstreamConnection? TakeIdle(bool retrySafe, ref List<UpstreamConnection>? discard)
    {
        var now = Environment.TickCount64;
        lock (_lock)
        {
            while (_idle.TryPop(out var connection))
            {
                var idleFor = now - connection.IdleSince;
                if (idleFor < _idleLimitMs
                    && (retrySafe && idleFor < UncheckedReuseMs && connection.IsPlainTcp ? !connection.IsDisposed : connection.LooksReusable()))
                {
                    return connection;
                }

                (discard ??= []).Add(connection);
            }
        }

        return null;
    }

    /// <summary>Puts a clean connection back. False when the pool is closed (the caller disposes it).</summary>
    public bool ReturnIdle(UpstreamConnection connection)
    {
        connection.IdleSince = Environment.TickCount64;
        lock (_lock)
        {
            if (_disposed)
            {
                return false;
            }

            _idle.Push(connection);
            return true;
        }
    }

    /// <summary>Removes idle connections older than the idle limit (or all when <paramref name="all"/>).</summary>
    public List<UpstreamConnection> Evict(bool all)
    {
        var now = Environment.TickCount64;
        var evicted = new List<UpstreamConnection>();
        lock (_lock)
        {
            if (_idle.Count == 0)
            {
                return evicted;
            }

            var keep = new List<UpstreamConnection>(_idle.Count);
            foreach (var connection in _idle)
            {
                (all || now - connection.IdleSince >= _idleLimitMs ? evicted : keep).Add(connection);
            }

            _idle.Clear();
            for (var i = keep.Count - 1; i >= 0; i--)
            {
                _idle.Push(keep[i]); // Stack enumerates top-first; push back bottom-first.
            }
        }

        return evicted;
    }

    public List<UpstreamConnection> Close()
    {
        lock (_lock)
        {
            _disposed = true;
        }

        return Evict(all: true);
    }

    public void Dispose() => _slots.Dispose();
}
