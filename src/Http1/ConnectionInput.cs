using System.IO.Pipelines;
using System.Net.Sockets;
using System.Runtime.CompilerServices;
using Gatehouse.Wire.Async;

namespace Gatehouse.Http1;

/// <summary>
/// The connection's read side: a <see cref="PipeReader"/> whose reads are bounded by a deadline.
/// A read stores its deadline in its cell of the <see cref="DeadlineSweep"/>, which cuts it once that has passed,
/// so a stalled client costs no thread and no timer of its own.
/// Between requests, when the pipe holds nothing, the connection may wait on the stream itself
/// (<see cref="StartWaitForBytes"/>): a zero-byte read that keeps far fewer objects alive than a read
/// through the pipe, which matters for thousands of idle keep-alive connections (issue 9).
/// </summary>
internal sealed class ConnectionInput : IDisposable
{
    private const long NoDeadline = DeadlineSweep.NoDeadline;
    private const long Expired = DeadlineSweep.Expired; // set by the sweep: the read in flight is past its deadline

    private readonly DeadlineSweep _sweep;
    private readonly Stream? _stream;
    private readonly Socket? _socket;
    private long[] _cells = DeadlineSweep.DetachedCells; // _cells[_cell]: this read's deadline, on DeadlineSweep.Now's clock
    private int _cell;
    private volatile bool _waitingOnStream;
    private PipeReader? _reader; // null while parked (Detach)

    /// <param name="reader">The pipe over the connection's stream; null until one is attached (<see cref="Attach"/>).</param>
    /// <param name="stream">The stream under <paramref name="reader"/>; null: no waiting on the stream itself.</param>
    /// <param name="socket">The socket under <paramref name="stream"/>, shut down to end a wait on the stream early.</param>
    /// <param name="sweep">Whose ticks enforce the deadlines (<see cref="DeadlineSweep.Shared"/> unless a test brings its own).</param>
    public ConnectionInput(PipeReader? reader, Stream? stream = null, Socket? socket = null, DeadlineSweep? sweep = null)
    {
        _reader = reader;
        _stream = socket is null ? null : stream;
        _socket = socket;
        _sweep = sweep ?? DeadlineSweep.Shared;
        _sweep.Add(this);
    }

    /// <summary>The pipe requests and bodies are read through; none while the connection is parked (<see cref="Detach"/>).</summary>
    public PipeReader Reader => _reader!;

    /// <summary>True once a read reported the end of the stream: the pipe can never be used for another connection.</summary>
    public bool SawEnd { get; private set; }

    /// <summary>Reads go through <paramref name="reader"/> from now on (pooled pipes, see <see cref="ConnectionPipes"/>).</summary>
    public void Attach(PipeReader reader)
    {
        SawEnd = false;
        Volatile.Write(ref _reader, reader);
    }

    /// <summary>
    /// Lets go of the pipe before it goes back to the pool: from now on <see cref="Interrupt"/> cannot
    /// reach it (it may serve another connection next). Only with no read in flight.
    /// </summary>
    public void Detach() => Volatile.Write(ref _reader, null);

    /// <summary>True when <see cref="StartWaitForBytes"/> may be used (there is a stream and a socket to end it with).</summary>
    public bool CanWaitOnStream => _stream is not null;

    /// <summary>The sweep's number for this input's cell; -1 while it has none (guarded by the sweep's lock).</summary>
    internal int Slot { get; private set; } = -1;

    /// <summary>For the sweep (under its lock): where this input's deadline is kept from now on.</summary>
    internal void TakeCell(long[] cells, int cell, int slot)
    {
        Slot = slot;
        _cell = cell;
        Volatile.Write(ref _cells, cells);
    }

    private ref long Deadline => ref Volatile.Read(ref _cells)[_cell];

    /// <summary>Reads with a timeout; a passed deadline surfaces as <see cref="TimeoutException"/>.</summary>
    public ValueTask<ReadResult> ReadAsync(TimeSpan timeout) => ReadBeforeAsync(DeadlineAfter(timeout));

    /// <summary>The deadline <paramref name="timeout"/> from now, on the clock <see cref="ReadBeforeAsync"/> takes.</summary>
    public static long DeadlineAfter(TimeSpan timeout) =>
        timeout.TotalMilliseconds < long.MaxValue / 4 ? DeadlineSweep.Now + (long)Math.Ceiling(timeout.TotalMilliseconds) : NoDeadline - 1;

    /// <summary>Reads before <paramref name="deadline"/> (see <see cref="DeadlineAfter"/>); past it: <see cref="TimeoutException"/>.</summary>
    // Awaited once per request on the hot path: a pooled box instead of a new one each time.
    [AsyncMethodBuilder(typeof(PooledValueTaskMethodBuilder<>))]
    public async ValueTask<ReadResult> ReadBeforeAsync(long deadline)
    {
        if (deadline <= DeadlineSweep.Now)
        {
            throw new TimeoutException();
        }

        Volatile.Write(ref Deadline, deadline);
        ReadResult result;
        try
        {
            result = await Reader.ReadAsync().ConfigureAwait(false);
        }
        catch
        {
            Disarm();
            throw;
        }

        if (Disarm())
        {
            throw new TimeoutException();
        }

        SawEnd |= result.IsCompleted;
        return result;
    }

    /// <summary>
    /// True when the pipe holds nothing to report (no unexamined bytes, no end, no cancelled read),
    /// so the next request can only come from a wait. Reads nothing: what is there stays unexamined
    /// for the next <see cref="ReadBeforeAsync"/>, which then returns at once.
    /// </summary>
    public bool IsDrained()
    {
        if (!Reader.TryRead(out var result))
        {
            return true;
        }

        Reader.AdvanceTo(result.Buffer.Start);
        if (result.IsCanceled)
        {
            // TryRead took the cancellation (a stop or the sweep); the next read must still report it.
            Reader.CancelPendingRead();
        }

        return false;
    }

    /// <summary>
    /// Starts waiting until the stream has bytes (or its end) by a zero-byte read on the stream itself,
    /// with nothing in flight on the pipe; only when <see cref="IsDrained"/>: bytes already in the
    /// pipe would not end this wait. The caller awaits the returned read in its own frame (an idle
    /// connection then keeps no state machine of this class alive), passes what it threw, if
    /// anything, to <see cref="FinishWaitForBytes"/>, then reads with <see cref="ReadBeforeAsync"/>.
    /// Past <paramref name="deadline"/> the sweep shuts the socket down, which ends the wait.
    /// </summary>
    public ValueTask<int> StartWaitForBytes(long deadline)
    {
        _waitingOnStream = true; // before the deadline is armed: whoever sees the deadline sees this too
        Volatile.Write(ref Deadline, deadline);
        try
        {
            return _stream!.ReadAsync(Memory<byte>.Empty);
        }
        catch
        {
            FinishWaitForBytes(error: null);
            throw;
        }
    }

    /// <summary>
    /// Ends a wait begun by <see cref="StartWaitForBytes"/>: <see cref="TimeoutException"/> when the
    /// sweep cut it (whatever the read threw then), otherwise <paramref name="error"/> again, if any.
    /// </summary>
    public void FinishWaitForBytes(Exception? error)
    {
        _waitingOnStream = false;
        if (Disarm())
        {
            throw new TimeoutException();
        }

        if (error is not null)
        {
            System.Runtime.ExceptionServices.ExceptionDispatchInfo.Throw(error);
        }
    }

    /// <summary>
    /// Ends the read or wait in flight now: a pipe read returns cancelled; a wait on the stream ends
    /// by shutting the socket down (the connection is being closed anyway). For the sweep, and for
    /// a server stopping while the connection is idle.
    /// </summary>
    public void Interrupt()
    {
        try
        {
            if (_waitingOnStream)
            {
                _socket!.Shutdown(SocketShutdown.Both);
            }

            Volatile.Read(ref _reader)?.CancelPendingRead();
        }
        catch (Exception ex) when (ex is ObjectDisposedException or InvalidOperationException or SocketException)
        {
            // The connection finished on its own meanwhile.
        }
    }

    public void Dispose() => _sweep.Remove(this);

    /// <summary>No deadline any more; true when the sweep had marked the read as past it.</summary>
    private bool Disarm() => Interlocked.Exchange(ref Deadline, NoDeadline) == Expired;
}
