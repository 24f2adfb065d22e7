using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace Gatehouse.Wire.Async;

/// <summary>
/// Builds an <c>async ValueTask&lt;T&gt;</c> method whose suspended state lives in a pooled box
/// (<c>[AsyncMethodBuilder(typeof(PooledValueTaskMethodBuilder&lt;&gt;))]</c> on the method).
/// The runtime's <see cref="PoolingAsyncValueTaskMethodBuilder{TResult}"/> keeps one box per thread
/// and one per core for each method, which a single connection hits every time but 32 connections
/// mid-request almost never do: under load, every method on a proxied request's path that waited
/// allocated its box again (about 2 KiB per request and a gen0 collection six times a second in the
/// side-by-side harness). This builder keeps up to <c>1024</c> boxes per method instead.
/// As with any pooled ValueTask, the result may be awaited once.
/// </summary>
[StructLayout(LayoutKind.Auto)]
public struct PooledValueTaskMethodBuilder<TResult>
{
    private PooledBox<TResult>? _box;
    private TResult _result;
    private Exception? _error;

    public static PooledValueTaskMethodBuilder<TResult> Create() => default;

    internal readonly PooledBox<TResult>? Box => _box;

    internal readonly Exception? Error => _error;

    public readonly ValueTask<TResult> Task =>
        _box is not null ? new ValueTask<TResult>(_box, _box.Version)
        : _error is not null ? ValueTask.FromException<TResult>(_error)
        : new ValueTask<TResult>(_result);

    // The runtime's own start: runs the first step and restores the caller's contexts after it.
    public readonly void Start<TStateMachine>(ref TStateMachine stateMachine)
        where TStateMachine : IAsyncStateMachine => AsyncValueTaskMethodBuilder<TResult>.Create().Start(ref stateMachine);

    public readonly void SetStateMachine(IAsyncStateMachine stateMachine)
    {
        // Only the runtime's boxing calls this; this builder boxes by itself.
    }

    public void SetResult(TResult result)
    {
        if (_box is null)
        {
            _result = result;
        }
        else
        {
            _box.SetResult(result);
        }
    }

    public void SetException(Exception exception)
    {
        if (_box is null)
        {
            _error = exception;
        }
        else
        {
            _box.SetException(exception);
        }
    }

    public void AwaitOnCompleted<TAwaiter, TStateMachine>(ref TAwaiter awaiter, ref TStateMachine stateMachine)
        where TAwaiter : INotifyCompletion
        where TStateMachine : IAsyncStateMachine => awaiter.OnCompleted(BoxFor(ref stateMachine).MoveNextAction);

    public void AwaitUnsafeOnCompleted<TAwaiter, TStateMachine>(ref TAwaiter awaiter, ref TStateMachine stateMachine)
        where TAwaiter : ICriticalNotifyCompletion
        where TStateMachine : IAsyncStateMachine => awaiter.UnsafeOnCompleted(BoxFor(ref stateMachine).MoveNextAction);

    private PooledBox<TResult, TStateMachine> BoxFor<TStateMachine>(ref TStateMachine stateMachine)
        where TStateMachine : IAsyncStateMachine
    {
        if (_box is PooledBox<TResult, TStateMachine> running)
        {
            // A later wait: the state machine already lives in the box (this builder is its copy).
            running.CaptureContext();
            return running;
        }

        var box = PooledBox<TResult, TStateMachine>.Rent();
        // The first wait: the box must be on this builder before the state machine is copied into
        // it, so both the caller's copy (which reads Task) and the box's copy point at it.
        _box = box;
        box.StateMachine = stateMachine;
        box.CaptureContext();
        return box;
    }
}

/// <summary>The <c>async ValueTask</c> (no result) form of <see cref="PooledValueTaskMethodBuilder{TResult}"/>.</summary>
[StructLayout(LayoutKind.Auto)]
public struct PooledValueTaskMethodBuilder
{
    private PooledValueTaskMethodBuilder<bool> _inner;

    public static PooledValueTaskMethodBuilder Create() => default;

    public readonly ValueTask Task =>
        _inner.Box is { } box ? new ValueTask(box, box.Version)
        : _inner.Error is { } error ? ValueTask.FromException(error)
        : default;

    public readonly void Start<TStateMachine>(ref TStateMachine stateMachine)
        where TStateMachine : IAsyncStateMachine => _inner.Start(ref stateMachine);

    public readonly void SetStateMachine(IAsyncStateMachine stateMachine) => _inner.SetStateMachine(stateMachine);

    public void SetResult() => _inner.SetResult(true);

    public void SetException(Exception exception) => _inner.SetException(exception);

    public void AwaitOnCompleted<TAwaiter, TStateMachine>(ref TAwaiter awaiter, ref TStateMachine stateMachine)
        where TAwaiter : INotifyCompletion
        where TStateMachine : IAsyncStateMachine => _inner.AwaitOnCompleted(ref awaiter, ref stateMachine);

    public void AwaitUnsafeOnCompleted<TAwaiter, TStateMachine>(ref TAwaiter awaiter, ref TStateMachine stateMachine)
        where TAwaiter : ICriticalNotifyCompletion
        where TStateMachine : IAsyncStateMachine => _inner.AwaitUnsafeOnCompleted(ref awaiter, ref stateMachine);
}
