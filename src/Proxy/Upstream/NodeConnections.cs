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
    private readonly Stack<UpstreamConnection> _idle = new();
    private readonly Lock _lock = new();
    private readonly SemaphoreSlim _slots;
    private readonly long _idleLimitMs;
    private bool _disposed;

    public NodeConnections(UpstreamNode node, UpstreamOptions options)
    {
        Node = node;
        _slots = new SemaphoreSlim(options.MaxConnectionsPerNode, options.MaxConnectionsPerNode);
        _idleLimitMs = (long)options.PooledIdleTime.TotalMilliseconds;
    }

    public UpstreamNode Node { get; }

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

    /// <summary>Waits for a slot (queued behind earlier waiters). False when the wait timed out.</summary>
    public Task<bool> WaitForSlotAsync(TimeSpan timeout, CancellationToken cancellationToken) =>
        _slots.WaitAsync(timeout, cancellationToken);

    public void ReleaseSlot() => _slots.Release();

    /// <summary>Pops a live idle connection, or null. Dead or expired ones found on the way are collected in <paramref name="discard"/>.</summary>
    public UpstreamConnection? TakeIdle(List<UpstreamConnection> discard)
    {
        var now = Environment.TickCount64;
        lock (_lock)
        {
            while (_idle.TryPop(out var connection))
            {
                if (now - connection.IdleSince < _idleLimitMs && connection.LooksReusable())
                {
                    return connection;
                }

                discard.Add(connection);
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
