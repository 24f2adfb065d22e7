using System.Runtime.CompilerServices;
using System.Threading.Tasks.Sources;
using Gatehouse.Wire.Async;

namespace Gatehouse.Wire.Tests;

/// <summary>
/// The pooled async builder (issue 9): results, exceptions and AsyncLocal values come through as
/// with the runtime's builders, and many calls waiting at once get their boxes back from the pool
/// (the runtime's own pooling builder keeps one per thread and one per core).
/// </summary>
public sealed class PooledValueTaskMethodBuilderTests
{
    private static readonly AsyncLocal<string?> Flowing = new();

    [Fact]
    public async Task SynchronousCompletionNeedsNoBox()
    {
        Assert.Equal(42, await Immediate(42));
        await ImmediateVoid();
        var error = Immediate(-1);
        Assert.True(error.IsFaulted);
        await Assert.ThrowsAsync<InvalidOperationException>(async () => await error);
    }

    [Fact]
    public async Task ResultAndExceptionComeThroughAfterAWait()
    {
        var gate = new Gate();
        var waiting = AfterGate(gate, 7);
        Assert.False(waiting.IsCompleted);
        gate.Open();
        Assert.Equal(7, await waiting);

        var failing = AfterGate(gate = new Gate(), -1);
        gate.Open();
        await Assert.ThrowsAsync<InvalidOperationException>(async () => await failing);

        var voidFailing = AfterGateVoid(gate = new Gate(), fail: true);
        gate.Open();
        await Assert.ThrowsAsync<InvalidOperationException>(async () => await voidFailing);
    }

    [Fact]
    public async Task AsyncLocalValuesFlowAcrossAWaitResumedOnAnotherThread()
    {
        Flowing.Value = "mine";
        var gate = new Gate();
        var seen = ReadFlowing(gate);
        Flowing.Value = "changed after the call";
        // Opened from a thread-pool thread, which has none of this test's values.
        await Task.Run(gate.Open);
        Assert.Equal("mine", await seen);
    }

    [Fact]
    public async Task AwaitingTheSameResultTwiceIsRefused()
    {
        var gate = new Gate();
        var task = AfterGate(gate, 1);
        gate.Open();
        Assert.Equal(1, await task);
        // The box went back to its pool at the first await; a second read must not see another call's state.
        Assert.Throws<InvalidOperationException>(() => task.GetAwaiter().GetResult());
    }

    [Fact]
    public void ManyCallsWaitingAtOnceReuseTheirBoxes()
    {
        const int Concurrent = 64;
        var stateMachine = typeof(PooledValueTaskMethodBuilderTests).GetMethod(nameof(Counted), System.Reflection.BindingFlags.NonPublic | System.Reflection.BindingFlags.Static)!
            .GetCustomAttributes(typeof(AsyncStateMachineAttribute), false).Cast<AsyncStateMachineAttribute>().Single().StateMachineType;
        var created = typeof(PooledBox<,>).MakeGenericType(typeof(int), stateMachine).GetProperty("CreatedCount", System.Reflection.BindingFlags.NonPublic | System.Reflection.BindingFlags.Static)!;

        Round(Concurrent);
        var made = (int)created.GetValue(null)!;
        Assert.Equal(Concurrent, made);
        // A second round rents those boxes back: had it made new ones, twice as many would exist now.
        Round(Concurrent);
        Assert.Equal(made, (int)created.GetValue(null)!);
    }

    // Every call waits on its own gate, and the gates open only once all of them are waiting.
    private static void Round(int count)
    {
        var gates = Enumerable.Range(0, count).Select(_ => new Gate()).ToArray();
#pragma warning disable CA2012 // each pooled ValueTask is held until it is read, once
        var tasks = new ValueTask<int>[count];
        for (var i = 0; i < count; i++)
        {
            tasks[i] = Counted(gates[i], i);
        }

        foreach (var gate in gates)
        {
            gate.Open();
        }

        for (var i = 0; i < count; i++)
        {
            Assert.Equal(i, tasks[i].Result);
        }
#pragma warning restore CA2012
    }

    [AsyncMethodBuilder(typeof(PooledValueTaskMethodBuilder<>))]
    private static async ValueTask<int> Counted(Gate gate, int value)
    {
        await gate.Wait();
        return value;
    }

    [AsyncMethodBuilder(typeof(PooledValueTaskMethodBuilder<>))]
    private static async ValueTask<int> Immediate(int value)
    {
        await Task.CompletedTask;
        return value >= 0 ? value : throw new InvalidOperationException("negative");
    }

    [AsyncMethodBuilder(typeof(PooledValueTaskMethodBuilder))]
    private static async ValueTask ImmediateVoid() => await Task.CompletedTask;

    [AsyncMethodBuilder(typeof(PooledValueTaskMethodBuilder<>))]
    private static async ValueTask<int> AfterGate(Gate gate, int value)
    {
        await gate.Wait();
        return value >= 0 ? value : throw new InvalidOperationException("negative");
    }

    [AsyncMethodBuilder(typeof(PooledValueTaskMethodBuilder))]
    private static async ValueTask AfterGateVoid(Gate gate, bool fail)
    {
        await gate.Wait();
        if (fail)
        {
            throw new InvalidOperationException("failed");
        }
    }

    [AsyncMethodBuilder(typeof(PooledValueTaskMethodBuilder<>))]
    private static async ValueTask<string?> ReadFlowing(Gate gate)
    {
        await gate.Wait();
        return Flowing.Value;
    }

    /// <summary>A reusable awaitable that completes when opened, without allocating per wait.</summary>
    private sealed class Gate : IValueTaskSource
    {
        private ManualResetValueTaskSourceCore<bool> _core;

        public ValueTask Wait() => new(this, _core.Version);

        public void Open() => _core.SetResult(true);

        public void GetResult(short token) => _core.GetResult(token);

        public ValueTaskSourceStatus GetStatus(short token) => _core.GetStatus(token);

        public void OnCompleted(Action<object?> continuation, object? state, short token, ValueTaskSourceOnCompletedFlags flags) =>
            _core.OnCompleted(continuation, state, token, flags);
    }
}
