using System.Runtime.CompilerServices;
using System.Threading.Tasks.Sources;
using Microsoft.Extensions.ObjectPool;

namespace Gatehouse.Wire.Async;

/// <summary>
/// The heap home of one suspended async method: its state machine, the result it will produce and
/// the awaiter's continuation. One box is rented when the method first waits, and goes back to its
/// pool when the awaiter has read the result, so a method that waits once per request costs no
/// allocation once the pool has warmed up.
/// </summary>
internal abstract class PooledBox<TResult> : IValueTaskSource<TResult>, IValueTaskSource
{
    private ManualResetValueTaskSourceCore<TResult> _core;

    public short Version => _core.Version;

    public void SetResult(TResult result) => _core.SetResult(result);

    public void SetException(Exception error) => _core.SetException(error);

    public ValueTaskSourceStatus GetStatus(short token) => _core.GetStatus(token);

    public void OnCompleted(Action<object?> continuation, object? state, short token, ValueTaskSourceOnCompletedFlags flags) =>
        _core.OnCompleted(continuation, state, token, flags);

    public TResult GetResult(short token)
    {
        try
        {
            return _core.GetResult(token);
        }
        finally
        {
            // The awaiter has its result: nobody may touch this box through that token again.
            _core.Reset();
            Recycle();
        }
    }

    void IValueTaskSource.GetResult(short token) => GetResult(token);

    /// <summary>Lets go of the finished method's state and offers the box back to its pool.</summary>
    protected abstract void Recycle();
}

/// <summary>The box for one async method (one state machine type), with that method's pool.</summary>
internal sealed class PooledBox<TResult, TStateMachine> : PooledBox<TResult>
    where TStateMachine : IAsyncStateMachine
{
    // Enough for every connection that can be mid-request on a small device; past it, boxes are
    // left to the GC rather than held forever after a burst.
    private const int PoolCapacity = 1024;

    private static readonly DefaultObjectPool<PooledBox<TResult, TStateMachine>> Pool = new(new BoxPolicy(), PoolCapacity);
    private static int _created;
    private static readonly ContextCallback MoveNextInContext = state => ((PooledBox<TResult, TStateMachine>)state!).StateMachine.MoveNext();

    private ExecutionContext? _context;

    private PooledBox()
    {
        MoveNextAction = MoveNext;
    }

    // A field, not a property: the state machine (a struct in release builds) must run in place.
    public TStateMachine StateMachine = default!;

    /// <summary>The continuation handed to awaiters: made once per box, not per wait.</summary>
    public Action MoveNextAction { get; }

    /// <summary>How many boxes this method ever made (for tests: reuse keeps it flat).</summary>
    internal static int CreatedCount => Volatile.Read(ref _created);

    public static PooledBox<TResult, TStateMachine> Rent() => Pool.Get();

    /// <summary>Remembers the waiting code's execution context (AsyncLocal values) for its resumption.</summary>
    public void CaptureContext() => _context = ExecutionContext.Capture();

    protected override void Recycle()
    {
        Pool.Return(this);
    }

    /// <summary>A box goes back holding none of the finished method's state.</summary>
    private sealed class BoxPolicy : PooledObjectPolicy<PooledBox<TResult, TStateMachine>>
    {
        public override PooledBox<TResult, TStateMachine> Create()
        {
            Interlocked.Increment(ref _created);
            return new PooledBox<TResult, TStateMachine>();
        }

        public override bool Return(PooledBox<TResult, TStateMachine> obj)
        {
            obj.StateMachine = default!;
            obj._context = null;
            return true;
        }
    }

    private void MoveNext()
    {
        if (_context is null)
        {
            StateMachine.MoveNext();
        }
        else
        {
            ExecutionContext.Run(_context, MoveNextInContext, this);
        }
    }
}
