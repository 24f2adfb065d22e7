using System.Threading.Tasks.Sources;

namespace Gatehouse.Proxy;

public sealed partial class FairUpstreamShares
{
    /// <summary>
    /// One request queued for a connection, awaited as a <see cref="ValueTask{T}"/> and kept for the
    /// next queued request once awaited. With 256 clients on a 64-connection route three requests in
    /// four queue, so a queued request must not cost a task, a timer and a list node of its own
    /// (about 560 bytes and a timer-queue lock each before): deadlines are kept by one timer per
    /// route (<see cref="ExpireWaiters"/>). Queue fields are guarded by the owner's lock; the result
    /// is set once, by whoever took the waiter out of its queue, after leaving the lock.
    /// </summary>
    private sealed class Waiter : IValueTaskSource<string?>
    {
        // Continuations run on the thread pool: the request that freed the connection is still
        // answering its own client and must not run the next request's forward inside its Leave.
        private ManualResetValueTaskSourceCore<string?> _result = new() { RunContinuationsAsynchronously = true };
        private CancellationTokenRegistration _cancellation;

        public Waiter(FairUpstreamShares owner)
        {
            Owner = owner;
            Node = new LinkedListNode<Waiter>(this);
        }

        public FairUpstreamShares Owner { get; }

        public LinkedListNode<Waiter> Node { get; }

        public KeyShare? Share { get; private set; }

        /// <summary>When the wait ends as a refusal, in <see cref="Environment.TickCount64"/> milliseconds.</summary>
        public long Deadline { get; private set; }

        public TimeSpan Wait { get; private set; }

        /// <summary>The next in a batch of grants, or in the spare waiters' stack.</summary>
        public Waiter? Link { get; set; }

        public CancellationToken Token { get; private set; }

        /// <summary>In its key's queue (neither granted, expired nor cancelled yet).</summary>
        public bool Queued => Node.List is not null;

        public ValueTask<string?> Task => new(this, _result.Version);

        public void Prepare(KeyShare share, TimeSpan wait, long now, CancellationToken cancellationToken)
        {
            Share = share;
            Wait = wait;
            Token = cancellationToken;
            Deadline = wait == Timeout.InfiniteTimeSpan ? long.MaxValue
                : now + (long)Math.Ceiling(Math.Max(0, wait.TotalMilliseconds));
        }

        /// <summary>After the owner's lock is left: a cancellation that already happened runs at once.</summary>
        public void WatchCancellation()
        {
            if (Token.CanBeCanceled)
            {
                _cancellation = Token.UnsafeRegister(static state => ((Waiter)state!).Owner.Cancel((Waiter)state), this);
            }
        }

        public void Grant() => _result.SetResult(null);

        public void Expire() => _result.SetResult(
            $"the app's connections stayed busy for {Wait.TotalSeconds.ToString("0.#", System.Globalization.CultureInfo.InvariantCulture)} s");

        public void Cancelled() => _result.SetException(new OperationCanceledException(Token));

        public string? GetResult(short token)
        {
            try
            {
                return _result.GetResult(token);
            }
            finally
            {
                // Dispose waits for a cancellation callback that is running, so none can reach this
                // waiter once it serves another request.
                _cancellation.Dispose();
                _cancellation = default;
                Owner.Recycle(this);
            }
        }

        public ValueTaskSourceStatus GetStatus(short token) => _result.GetStatus(token);

        public void OnCompleted(Action<object?> continuation, object? state, short token, ValueTaskSourceOnCompletedFlags flags) =>
            _result.OnCompleted(continuation, state, token, flags);

        /// <summary>Once awaited (the awaiting thread owns it then): ready for the next request.</summary>
        public void Reset()
        {
            Share = null;
            Token = default;
            _result.Reset();
        }
    }
}
