namespace Gatehouse.Proxy;

/// <summary>
/// Fair shares of one web app's upstream connections among the principals using it (issue 18).
/// Unlike <see cref="UpstreamShares"/> (CouchDB, where a device's share is fixed), a key alone may use
/// most of the pool, because a person's browser opening many parallel requests is the normal case:
/// <list type="bullet">
/// <item>no key holds more than <see cref="Ceiling"/> (capacity minus one guaranteed share), so another
///   key always finds <see cref="Guaranteed"/> connections however slow the first key's requests are;</item>
/// <item>when the pool is full, a freed connection goes to the waiting key that holds the fewest
///   (ties in turn), not to the longest queue, so one key's backlog never delays another key's request
///   by more than one request's time;</item>
/// <item>long-lived requests (WebSocket tunnels) never wait: they get a connection only within the key's
///   guaranteed share and the route's long-lived budget, else a refusal.</item>
/// </list>
/// The fast path (a free connection, nobody waiting) takes one lock and allocates nothing; a wait
/// allocates nothing either once the route has seen as many waits at once (see <see cref="Waiter"/>).
/// </summary>
public sealed partial class FairUpstreamShares : IDisposable
{
    // Idle keys are forgotten past this many, so keys that came once do not pile up.
    private const int KeysKeptIdle = 256;

    private readonly Lock _lock = new();
    private readonly Dictionary<string, KeyShare> _keys = new(StringComparer.Ordinal);
    private Waiter? _spareWaiters;    // taken under the lock
    private Waiter? _returnedWaiters; // pushed without it (Recycle), taken all at once
    private readonly Timer _expiry;
    private long _expiryDue = long.MaxValue;
    private bool _disposed;
    private int _inUse;
    private int _longLived;
    private int _waiting;
    private int _turn;

    /// <param name="capacity">Connections the route may hold to its upstream.</param>
    /// <param name="guaranteed">Connections always left for any other key (at least 1, less than the capacity).</param>
    /// <param name="longLived">Connections all long-lived requests may hold at once.</param>
    public FairUpstreamShares(int capacity, int guaranteed, int longLived)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(capacity, 2);
        ArgumentOutOfRangeException.ThrowIfLessThan(guaranteed, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(guaranteed, capacity);
        ArgumentOutOfRangeException.ThrowIfLessThan(longLived, 1);
        Capacity = capacity;
        Guaranteed = guaranteed;
        LongLived = longLived;
        _expiry = new Timer(static state => ((FairUpstreamShares)state!).ExpireWaiters(), this, Timeout.Infinite, Timeout.Infinite);
    }

    public int Capacity { get; }

    public int Guaranteed { get; }

    /// <summary>The most one key may hold: what is left when another key takes its guaranteed share.</summary>
    public int Ceiling => Capacity - Guaranteed;

    public int LongLived { get; }

    /// <summary>Connections held now, over all keys.</summary>
    public int InUse
    {
        get
        {
            lock (_lock)
            {
                return _inUse;
            }
        }
    }

    /// <summary>Requests waiting for a connection now.</summary>
    public int Waiting
    {
        get
        {
            lock (_lock)
            {
                return _waiting;
            }
        }
    }

    /// <summary>
    /// Takes a connection for <paramref name="key"/>. A short request waits up to <paramref name="wait"/>;
    /// a long-lived one does not wait. Returns the refusal reason, or null when entered (then call
    /// <see cref="Leave"/> exactly once).
    /// </summary>
    public ValueTask<string?> EnterAsync(string key, bool longLived, TimeSpan wait, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(key);
        Waiter waiter;
        lock (_lock)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            var share = ShareOf(key);
            if (longLived)
            {
                return ValueTask.FromResult(TryEnterLongLived(share));
            }

            // Behind its own earlier waiters, a key does not jump the line it made.
            if (share.Waiters.Count == 0 && _inUse < Capacity && share.Held < Ceiling)
            {
                Take(share);
                return ValueTask.FromResult<string?>(null);
            }

            waiter = RentWaiter();
            var now = Environment.TickCount64;
            waiter.Prepare(share, wait, now, cancellationToken);
            share.Waiters.AddLast(waiter.Node);
            _waiting++;
            if (waiter.Deadline < _expiryDue)
            {
                ArmExpiry(waiter.Deadline, now);
            }
        }

        var task = waiter.Task;
        waiter.WatchCancellation();
        return task;
    }

    /// <summary>Gives back what <see cref="EnterAsync"/> took, handing it to the fairest waiter.</summary>
    public void Leave(string key, bool longLived)
    {
        Waiter? granted;
        lock (_lock)
        {
            if (!_keys.TryGetValue(key, out var share) || share.Held == 0)
            {
                throw new InvalidOperationException("left a share that was not entered");
            }

            share.Held--;
            _inUse--;
            if (longLived)
            {
                _longLived--;
            }

            granted = HandOut();
            ForgetIdleKeys();
        }

        // Outside the lock: a woken request's first step (Recycle) must not find it held.
        while (granted is not null)
        {
            var next = granted.Link;
            granted.Link = null;
            granted.Grant();
            granted = next;
        }
    }

    private string? TryEnterLongLived(KeyShare share)
    {
        if (share.Held >= Guaranteed)
        {
            return $"this key already holds {share.Held} connections to the app; a tunnel may use only its {Guaranteed}";
        }

        if (_longLived >= LongLived)
        {
            return $"{LongLived} tunnels already hold connections to the app";
        }

        if (_inUse >= Capacity)
        {
            return $"all {Capacity} connections to the app are busy";
        }

        Take(share);
        _longLived++;
        return null;
    }

    /// <summary>A queued request's token was cancelled: it leaves the queue and its await throws.</summary>
    private void Cancel(Waiter waiter)
    {
        lock (_lock)
        {
            if (!waiter.Queued)
            {
                return; // granted or expired first
            }

            Dequeue(waiter);
        }

        waiter.Cancelled();
    }

    /// <summary>Ends the waits whose deadline passed and sets the timer for the next one.</summary>
    private void ExpireWaiters()
    {
        List<Waiter>? expired = null;
        lock (_lock)
        {
            var now = Environment.TickCount64;
            var next = long.MaxValue;
            _expiryDue = long.MaxValue;
            foreach (var share in _keys.Values)
            {
                for (var node = share.Waiters.First; node is not null; node = node.Next)
                {
                    var waiter = node.Value;
                    if (_disposed || waiter.Deadline <= now)
                    {
                        (expired ??= []).Add(waiter);
                    }
                    else
                    {
                        next = Math.Min(next, waiter.Deadline);
                    }
                }
            }

            foreach (var waiter in expired ?? [])
            {
                Dequeue(waiter);
            }

            if (next != long.MaxValue && !_disposed)
            {
                ArmExpiry(next, now);
            }
        }

        foreach (var waiter in expired ?? [])
        {
            waiter.Expire();
        }
    }

    private void ArmExpiry(long deadline, long now)
    {
        if (deadline == long.MaxValue)
        {
            return;
        }

        _expiryDue = deadline;
        _expiry.Change(TimeSpan.FromMilliseconds(Math.Clamp(deadline - now, 0, uint.MaxValue - 2)), Timeout.InfiniteTimeSpan);
    }

    private void Dequeue(Waiter waiter)
    {
        waiter.Share!.Waiters.Remove(waiter.Node);
        _waiting--;
        ForgetIdleKeys();
    }

    /// <summary>Under the lock: a waiter used before, else a new one.</summary>
    private Waiter RentWaiter()
    {
        var waiter = _spareWaiters ?? Interlocked.Exchange(ref _returnedWaiters, null);
        if (waiter is null)
        {
            return new Waiter(this);
        }

        _spareWaiters = waiter.Link;
        waiter.Link = null;
        return waiter;
    }

    /// <summary>
    /// An awaited waiter comes back for the next request that has to queue. Pushed without the lock:
    /// the awaiting thread recycles as the first thing it does when woken, and on one CPU it is often
    /// woken while the thread that granted it still runs. The route keeps as many waiters as it ever
    /// had queued at once.
    /// </summary>
    private void Recycle(Waiter waiter)
    {
        waiter.Reset();
        Waiter? head;
        do
        {
            head = Volatile.Read(ref _returnedWaiters);
            waiter.Link = head;
        }
        while (Interlocked.CompareExchange(ref _returnedWaiters, waiter, head) != head);
    }

    /// <summary>Stops the deadline timer; requests still queued are refused as if their wait ran out.</summary>
    public void Dispose()
    {
        lock (_lock)
        {
            if (_disposed)
            {
                return;
            }

            _disposed = true;
        }

        _expiry.Dispose();
        ExpireWaiters();
    }

    private KeyShare ShareOf(string key)
    {
        if (!_keys.TryGetValue(key, out var share))
        {
            share = new KeyShare();
            _keys.Add(key, share);
        }

        return share;
    }

    private void Take(KeyShare share)
    {
        share.Held++;
        _inUse++;
    }

    /// <summary>
    /// Free connections go to the waiting key holding the fewest; among equals, in turn. Returns the
    /// waiters granted, linked, for the caller to complete once it has left the lock.
    /// </summary>
    private Waiter? HandOut()
    {
        Waiter? first = null;
        Waiter? last = null;
        while (_waiting > 0 && _inUse < Capacity)
        {
            KeyShare? next = null;
            var index = 0;
            var chosenIndex = 0;
            foreach (var share in _keys.Values)
            {
                if (share.Waiters.Count > 0 && share.Held < Ceiling
                    && (next is null || share.Held < next.Held || (share.Held == next.Held && Later(index, chosenIndex))))
                {
                    next = share;
                    chosenIndex = index;
                }

                index++;
            }

            if (next is null)
            {
                break; // every waiting key is at its ceiling
            }

            _turn = chosenIndex + 1;
            var waiter = next.Waiters.First!.Value;
            next.Waiters.RemoveFirst();
            _waiting--;
            Take(next);
            if (last is null)
            {
                first = waiter;
            }
            else
            {
                last.Link = waiter;
            }

            last = waiter;
        }

        return first;
    }

    // Round robin among equals: the first index at or after the turn wins over one before it.
    private bool Later(int candidate, int chosen) => (candidate >= _turn) && (chosen < _turn);

    private void ForgetIdleKeys()
    {
        if (_keys.Count <= KeysKeptIdle)
        {
            return;
        }

        foreach (var (key, share) in _keys)
        {
            if (share.Held == 0 && share.Waiters.Count == 0)
            {
                _keys.Remove(key);
            }
        }
    }

    private sealed class KeyShare
    {
        public int Held { get; set; }

        public LinkedList<Waiter> Waiters { get; } = new();
    }
}
