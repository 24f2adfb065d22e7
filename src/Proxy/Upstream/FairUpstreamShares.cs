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
/// The fast path (a free connection, nobody waiting) takes one lock and allocates nothing.
/// </summary>
public sealed class FairUpstreamShares
{
    // Idle keys are forgotten past this many, so keys that came once do not pile up.
    private const int KeysKeptIdle = 256;

    private readonly Lock _lock = new();
    private readonly Dictionary<string, KeyShare> _keys = new(StringComparer.Ordinal);
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

            waiter = new Waiter(share);
            share.Waiters.AddLast(waiter.Node);
            _waiting++;
        }

        return WaitAsync(waiter, wait, cancellationToken);
    }

    /// <summary>Gives back what <see cref="EnterAsync"/> took, handing it to the fairest waiter.</summary>
    public void Leave(string key, bool longLived)
    {
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

            HandOut();
            ForgetIdleKeys();
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

    private async ValueTask<string?> WaitAsync(Waiter waiter, TimeSpan wait, CancellationToken cancellationToken)
    {
        try
        {
            await waiter.Granted.Task.WaitAsync(wait, cancellationToken).ConfigureAwait(false);
            return null;
        }
        catch (Exception ex) when (ex is TimeoutException or OperationCanceledException)
        {
            bool granted;
            lock (_lock)
            {
                // Handed a connection just as the wait ended: it goes back like any other.
                granted = waiter.Granted.Task.IsCompletedSuccessfully;
                if (!granted)
                {
                    waiter.Share.Waiters.Remove(waiter.Node);
                    _waiting--;
                    ForgetIdleKeys();
                }
            }

            if (granted)
            {
                Leave(waiter.Share.Key, longLived: false);
            }

            if (ex is OperationCanceledException)
            {
                throw;
            }

            return $"the app's connections stayed busy for {wait.TotalSeconds.ToString("0.#", System.Globalization.CultureInfo.InvariantCulture)} s";
        }
    }

    private KeyShare ShareOf(string key)
    {
        if (!_keys.TryGetValue(key, out var share))
        {
            share = new KeyShare(key);
            _keys.Add(key, share);
        }

        return share;
    }

    private void Take(KeyShare share)
    {
        share.Held++;
        _inUse++;
    }

    /// <summary>Free connections go to the waiting key holding the fewest; among equals, in turn.</summary>
    private void HandOut()
    {
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
                return; // every waiting key is at its ceiling
            }

            _turn = chosenIndex + 1;
            var waiter = next.Waiters.First!.Value;
            next.Waiters.RemoveFirst();
            _waiting--;
            Take(next);
            waiter.Granted.TrySetResult();
        }
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

    private sealed class KeyShare(string key)
    {
        public string Key { get; } = key;

        public int Held { get; set; }

        public LinkedList<Waiter> Waiters { get; } = new();
    }

    private sealed class Waiter
    {
        public Waiter(KeyShare share)
        {
            Share = share;
            Node = new LinkedListNode<Waiter>(this);
        }

        public KeyShare Share { get; }

        public LinkedListNode<Waiter> Node { get; }

        public TaskCompletionSource Granted { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
    }
}
