using Gatehouse.Proxy;
using Xunit;

namespace Gatehouse.Proxy.Tests;

public sealed class FairUpstreamSharesTests
{
    private static readonly TimeSpan Long = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task OneKeyAloneUsesUpToTheCeilingAndThenWaits()
    {
        using var shares = new FairUpstreamShares(capacity: 8, guaranteed: 2, longLived: 4);
        for (var i = 0; i < shares.Ceiling; i++)
        {
            Assert.Null(await shares.EnterAsync("a", longLived: false, Long, CancellationToken.None));
        }

        var past = shares.EnterAsync("a", longLived: false, Long, CancellationToken.None);
        Assert.False(past.IsCompleted);
        Assert.Equal(1, shares.Waiting);

        shares.Leave("a", longLived: false);
        Assert.Null(await past);
        Assert.Equal(6, shares.InUse);
    }

    [Fact]
    public async Task AnotherKeyFindsItsGuaranteedShareWhileTheFirstIsAtItsCeiling()
    {
        using var shares = new FairUpstreamShares(capacity: 8, guaranteed: 2, longLived: 4);
        for (var i = 0; i < 6; i++)
        {
            Assert.Null(await shares.EnterAsync("a", longLived: false, Long, CancellationToken.None));
        }

        var queued = shares.EnterAsync("a", longLived: false, Long, CancellationToken.None).AsTask(); // at its ceiling
        Assert.Null(await shares.EnterAsync("b", longLived: false, Long, CancellationToken.None));
        Assert.Null(await shares.EnterAsync("b", longLived: false, Long, CancellationToken.None));
        Assert.Equal(8, shares.InUse);
        Assert.False(queued.IsCompleted);
    }

    [Fact]
    public async Task AFreedConnectionGoesToTheWaitingKeyHoldingFewestNotTheLongestQueue()
    {
        using var shares = new FairUpstreamShares(capacity: 4, guaranteed: 1, longLived: 2);
        for (var i = 0; i < 3; i++)
        {
            Assert.Null(await shares.EnterAsync("a", longLived: false, Long, CancellationToken.None));
        }

        Assert.Null(await shares.EnterAsync("b", longLived: false, Long, CancellationToken.None));

        // Full. a queues ten, then c queues one: c holds none, so the next freed connection is c's.
        var aQueue = Enumerable.Range(0, 10).Select(_ => shares.EnterAsync("a", false, Long, CancellationToken.None).AsTask()).ToList();
        var c = shares.EnterAsync("c", longLived: false, Long, CancellationToken.None).AsTask();
        shares.Leave("a", longLived: false);
        Assert.Null(await c);
        Assert.All(aQueue, task => Assert.False(task.IsCompleted));

        // b leaves next: a (2 held) and nobody else waits, so a's oldest request goes.
        shares.Leave("b", longLived: false);
        Assert.Null(await aQueue[0]);
        Assert.All(aQueue.Skip(1), task => Assert.False(task.IsCompleted));
    }

    [Fact]
    public async Task KeysHoldingTheSameTakeTurns()
    {
        using var shares = new FairUpstreamShares(capacity: 3, guaranteed: 1, longLived: 1);
        Assert.Null(await shares.EnterAsync("a", false, Long, CancellationToken.None));
        Assert.Null(await shares.EnterAsync("b", false, Long, CancellationToken.None));
        Assert.Null(await shares.EnterAsync("c", false, Long, CancellationToken.None));
        var pending = new List<(string Key, Task<string?> Task)>();
        for (var i = 0; i < 4; i++)
        {
            pending.Add(("a", shares.EnterAsync("a", false, Long, CancellationToken.None).AsTask()));
            pending.Add(("b", shares.EnterAsync("b", false, Long, CancellationToken.None).AsTask()));
        }

        // c goes; then whoever got its connection gives one back each time, so a and b always hold
        // the same when a connection is handed out: they must alternate.
        var turns = new List<string>();
        var leaver = "c";
        for (var round = 0; round < 6; round++)
        {
            shares.Leave(leaver, false);
            var done = await Task.WhenAny(pending.Select(p => p.Task));
            Assert.Null(await done);
            var granted = pending.Single(p => p.Task == done);
            pending.Remove(granted);
            turns.Add(granted.Key);
            leaver = granted.Key;
        }

        Assert.Equal(6, turns.Count);
        for (var i = 1; i < turns.Count; i++)
        {
            Assert.NotEqual(turns[i - 1], turns[i]);
        }
    }

    [Fact]
    public async Task AWaitThatTimesOutIsARefusalAndLeavesNothingBehind()
    {
        using var shares = new FairUpstreamShares(capacity: 2, guaranteed: 1, longLived: 1);
        Assert.Null(await shares.EnterAsync("a", false, Long, CancellationToken.None));
        var refusal = await shares.EnterAsync("a", false, TimeSpan.FromMilliseconds(50), CancellationToken.None);
        Assert.Contains("stayed busy", refusal, StringComparison.Ordinal);
        Assert.Equal(0, shares.Waiting);
        shares.Leave("a", false);
        Assert.Equal(0, shares.InUse);
    }

    [Fact]
    public async Task ACancelledWaitThrowsAndLeavesNothingBehind()
    {
        using var shares = new FairUpstreamShares(capacity: 2, guaranteed: 1, longLived: 1);
        Assert.Null(await shares.EnterAsync("a", false, Long, CancellationToken.None));
        using var cancel = new CancellationTokenSource();
        var waiting = shares.EnterAsync("a", false, Long, cancel.Token).AsTask();
        await cancel.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => waiting);
        Assert.Equal(0, shares.Waiting);
        shares.Leave("a", false);
        Assert.Equal(0, shares.InUse);
    }

    [Fact]
    public async Task TunnelsNeverWaitAndStayWithinTheGuaranteedShareAndTheBudget()
    {
        using var shares = new FairUpstreamShares(capacity: 8, guaranteed: 2, longLived: 3);
        Assert.Null(await shares.EnterAsync("a", longLived: true, Long, CancellationToken.None));
        Assert.Null(await shares.EnterAsync("a", longLived: true, Long, CancellationToken.None));
        Assert.Contains("tunnel may use only its 2", await shares.EnterAsync("a", longLived: true, Long, CancellationToken.None), StringComparison.Ordinal);
        Assert.Null(await shares.EnterAsync("b", longLived: true, Long, CancellationToken.None));
        Assert.Contains("3 tunnels already", await shares.EnterAsync("c", longLived: true, Long, CancellationToken.None), StringComparison.Ordinal);

        // Short requests still get the rest.
        Assert.Null(await shares.EnterAsync("c", longLived: false, Long, CancellationToken.None));
        shares.Leave("a", longLived: true);
        Assert.Null(await shares.EnterAsync("c", longLived: true, Long, CancellationToken.None));
    }

    [Fact]
    public void LeavingWhatWasNotEnteredIsABug()
    {
        using var shares = new FairUpstreamShares(capacity: 2, guaranteed: 1, longLived: 1);
        Assert.Throws<InvalidOperationException>(() => shares.Leave("nobody", false));
    }

    [Fact]
    public async Task ManyKeysUnderLoadGiveEveryConnectionBack()
    {
        using var shares = new FairUpstreamShares(capacity: 16, guaranteed: 4, longLived: 4);
        var keys = Enumerable.Range(0, 300).Select(i => "key-" + i).ToArray();
        await Parallel.ForEachAsync(Enumerable.Range(0, 5000), new ParallelOptions { MaxDegreeOfParallelism = 32 }, async (i, token) =>
        {
            var key = keys[i % keys.Length];
            var longLived = i % 7 == 0;
            if (await shares.EnterAsync(key, longLived, Long, token) is null)
            {
                await Task.Yield();
                shares.Leave(key, longLived);
            }
        });
        Assert.Equal(0, shares.InUse);
        Assert.Equal(0, shares.Waiting);
    }

    [Fact]
    public void AQueuedRequestAllocatesNothingOnceTheRouteHasQueuedBefore()
    {
        // With 256 clients on a 64-connection route three requests in four queue: each used to cost a
        // task, a timer and list nodes (about 560 bytes per request in the bench's dotnet-counters).
        using var shares = new FairUpstreamShares(capacity: 2, guaranteed: 1, longLived: 1);
        using var stop = new CancellationTokenSource();
        Assert.Null(ResultOf(shares.EnterAsync("a", false, Long, stop.Token)));
        void QueueAndHandOver()
        {
            var queued = shares.EnterAsync("a", false, Long, stop.Token);
            Assert.False(queued.IsCompleted);
            shares.Leave("a", false);
            Assert.Null(ResultOf(queued));
        }

        QueueAndHandOver();
        var before = GC.GetAllocatedBytesForCurrentThread();
        for (var i = 0; i < 1000; i++)
        {
            QueueAndHandOver();
        }

        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
        Assert.Equal(1, shares.InUse);
        Assert.Equal(0, shares.Waiting);
    }

    [Fact]
    public async Task AShortWaitQueuedBehindALongOneEndsOnItsOwnDeadline()
    {
        using var shares = new FairUpstreamShares(capacity: 2, guaranteed: 1, longLived: 1);
        Assert.Null(await shares.EnterAsync("a", false, Long, CancellationToken.None));
        var patient = shares.EnterAsync("a", false, Long, CancellationToken.None).AsTask();
        var started = System.Diagnostics.Stopwatch.StartNew();
        var hurried = await shares.EnterAsync("a", false, TimeSpan.FromMilliseconds(100), CancellationToken.None);
        Assert.Contains("stayed busy for 0.1 s", hurried, StringComparison.Ordinal);
        Assert.InRange(started.Elapsed, TimeSpan.FromMilliseconds(90), TimeSpan.FromSeconds(10));
        Assert.False(patient.IsCompleted);

        // Two more in a row: the timer is set again after it fired for the first.
        var first = shares.EnterAsync("a", false, TimeSpan.FromMilliseconds(50), CancellationToken.None).AsTask();
        var second = shares.EnterAsync("a", false, TimeSpan.FromMilliseconds(150), CancellationToken.None).AsTask();
        Assert.NotNull(await first);
        Assert.False(patient.IsCompleted);
        Assert.NotNull(await second);
        Assert.Equal(1, shares.Waiting);

        shares.Leave("a", false);
        Assert.Null(await patient);
        Assert.Equal(0, shares.Waiting);
    }

    [Fact]
    public async Task DisposingRefusesTheQueuedAndFurtherRequests()
    {
        var shares = new FairUpstreamShares(capacity: 2, guaranteed: 1, longLived: 1);
        Assert.Null(await shares.EnterAsync("a", false, Long, CancellationToken.None));
        var queued = shares.EnterAsync("a", false, Long, CancellationToken.None).AsTask();
        shares.Dispose();
        Assert.Contains("stayed busy", await queued, StringComparison.Ordinal);
        Assert.Equal(0, shares.Waiting);
        await Assert.ThrowsAsync<ObjectDisposedException>(() => shares.EnterAsync("b", false, Long, CancellationToken.None).AsTask());
    }

    // Synchronously, so the allocation count is this thread's alone (a handed-over wait is complete).
    private static string? ResultOf(ValueTask<string?> task)
    {
        Assert.True(task.IsCompleted);
        return task.Result;
    }
}
