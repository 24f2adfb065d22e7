namespace Gatehouse.Proxy.Tests;

/// <summary>
/// The upstream deadlines arm only when an operation waits (issue 22): these pin what that must keep,
/// a pending operation still times out and still follows the caller's token, and one that finished at
/// once leaves nothing armed or linked behind.
/// </summary>
public sealed class IdleDeadlineTests
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(10);
    private static readonly TimeSpan Short = TimeSpan.FromMilliseconds(100);

    [Fact]
    public async Task UnarmedTokenNeverFiresOnItsOwn()
    {
        using var deadline = new IdleDeadline();
        deadline.Attach(CancellationToken.None);
        var token = deadline.Unarmed();

        await Task.Delay(Short * 3);

        Assert.False(token.IsCancellationRequested);
        Assert.False(deadline.Expired);
    }

    [Fact]
    public async Task ArmedAfterTheOperationWentPendingFiresOnTheTokenItAlreadyHolds()
    {
        using var deadline = new IdleDeadline();
        deadline.Attach(CancellationToken.None);
        var token = deadline.Unarmed();
        var pending = Task.Delay(Wait, token);

        deadline.ArmPending(Short);

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => pending.WaitAsync(Wait));
        Assert.True(deadline.Expired);
    }

    [Fact]
    public async Task CallerTokenCancelsAPendingArmedOperationButIsNotLinkedUntilThen()
    {
        using var caller = new CancellationTokenSource();
        using var deadline = new IdleDeadline();
        deadline.Attach(caller.Token);
        var token = deadline.Unarmed();
        var pending = Task.Delay(Wait, token);
        deadline.ArmPending(Wait);

        await caller.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => pending.WaitAsync(Wait));
        Assert.False(deadline.Expired); // the caller, not the deadline
    }

    [Fact]
    public async Task WaitingTokenFollowsTheCallerBeforeAnyCountdown()
    {
        using var caller = new CancellationTokenSource();
        using var deadline = new IdleDeadline();
        deadline.Attach(caller.Token);
        var pending = Task.Delay(Wait, deadline.Waiting());

        await caller.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => pending.WaitAsync(Wait));
    }

    [Fact]
    public async Task DisarmedDeadlineAndANewForwardStartClean()
    {
        using var deadline = new IdleDeadline();
        deadline.Attach(CancellationToken.None);
        _ = deadline.Unarmed();
        deadline.ArmPending(Short);
        deadline.Disarm();
        deadline.Detach();

        await Task.Delay(Short * 3);
        using var caller = new CancellationTokenSource();
        deadline.Attach(caller.Token);

        Assert.False(deadline.Unarmed().IsCancellationRequested);
    }

    [Fact]
    public async Task FiredDeadlineIsReplacedForTheNextOperation()
    {
        using var deadline = new IdleDeadline();
        deadline.Attach(CancellationToken.None);
        var first = deadline.Unarmed();
        deadline.ArmPending(Short);
        await Task.Delay(Wait, first).ContinueWith(static _ => { }, TaskScheduler.Default);
        Assert.True(first.IsCancellationRequested);

        var next = deadline.Unarmed();

        Assert.False(next.IsCancellationRequested);
    }
}
