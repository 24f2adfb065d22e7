using Microsoft.Extensions.ObjectPool;

namespace Gatehouse.Wire;

/// <summary>
/// The cancellation sources that bound TLS handshakes (limits.handshakeTimeout, and the server's
/// stop), reused from one handshake to the next (issue 9: idle memory).
/// Why not a linked source per handshake: the socket keeps its last receive operation for the
/// connection's whole life, and that operation keeps the registration it made on the handshake's
/// token, so a per-handshake source (with its registration list and nodes, ~290 bytes) stayed
/// reachable from every idle connection. A reused source is shared by many connections instead:
/// a stale registration is harmless (its id no longer matches once the node is reused).
/// A source that was cancelled (timed out or stopped) is never reused: it is disposed.
/// </summary>
internal sealed class HandshakeDeadlines(TimeSpan timeout, int capacity)
{
    // CancellationTokenSource is IDisposable: the provider's pool disposes a source it does not keep.
    private readonly ObjectPool<CancellationTokenSource> _idle =
        new DefaultObjectPoolProvider { MaximumRetained = capacity }.Create(new ResettingPolicy());

    /// <summary>A deadline for one handshake: cancelled after the timeout, or when <paramref name="stopping"/> is.</summary>
    public Deadline Start(CancellationToken stopping)
    {
        CancellationTokenSource source = _idle.Get();
        source.CancelAfter(timeout);
        CancellationTokenRegistration stop = stopping.UnsafeRegister(static state => ((CancellationTokenSource)state!).Cancel(), source);
        return new Deadline(source, stop);
    }

    /// <summary>Ends the deadline: its source goes back for reuse unless it was cancelled or the pool is full.</summary>
    public void Finish(Deadline deadline)
    {
        // Dispose waits for a stop callback already running, so the source's state is settled below.
        deadline.Stop.Dispose();
        _idle.Return(deadline.Source);
    }

    /// <summary>A source is kept only when it resets: never once cancelled (timed out or stopped).</summary>
    private sealed class ResettingPolicy : PooledObjectPolicy<CancellationTokenSource>
    {
        public override CancellationTokenSource Create() => new();

        // TryReset fails once cancelled (or when the timer fired meanwhile) and drops the registrations left.
        public override bool Return(CancellationTokenSource obj) => obj.TryReset();
    }

    /// <summary>One handshake's deadline; give it back with <see cref="Finish"/>.</summary>
    internal readonly struct Deadline(CancellationTokenSource source, CancellationTokenRegistration stop)
    {
        internal CancellationTokenSource Source { get; } = source;

        internal CancellationTokenRegistration Stop { get; } = stop;

        /// <summary>Cancelled when the handshake's time is up or the server stops.</summary>
        public CancellationToken Token => Source.Token;

        /// <summary>True once cancelled, for either reason.</summary>
        public bool IsCancellationRequested => Source.IsCancellationRequested;
    }
}
