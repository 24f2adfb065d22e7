using System.Net;
using System.Net.Sockets;

namespace Gatehouse.Proxy.Tests;

/// <summary>
/// The answer's deadline and the client-departure poll run on one shared sweep (issue 22): a wait
/// only marks itself. These pin what the per-connection timers did: a deadline fires once passed
/// and not before, a client that left is seen, a wait that ended (or the next one on the same
/// connection) is never fired for an old one, and the timer runs only while something waits.
/// Ticks are driven by hand (<see cref="UpstreamWaitSweep.Tick"/>) except where the timer itself is the subject.
/// </summary>
public sealed class UpstreamWaitSweepTests
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(10);
    private static readonly TimeSpan Never = TimeSpan.FromHours(1);

    [Fact]
    public void AnArmedWaitFiresOnceItsDeadlinePassedAndNotBefore()
    {
        var sweep = new UpstreamWaitSweep(Never);
        using var watch = new ClientDepartureWatch(sweep);
        using var deadline = AttachedDeadline(out var token);
        watch.Start(client: null, deadline);
        watch.ArmAfter(TimeSpan.FromSeconds(2));

        sweep.Tick(UpstreamWaitSweep.Now);
        Assert.False(token.IsCancellationRequested);

        sweep.Tick(UpstreamWaitSweep.Now + 3_000);
        Assert.True(token.IsCancellationRequested);
        Assert.True(deadline.Expired);
        Assert.False(watch.ClientGone);
    }

    [Fact]
    public void AWaitThatWasNeverArmedOnlyWatchesItsClient()
    {
        var sweep = new UpstreamWaitSweep(Never);
        using var watch = new ClientDepartureWatch(sweep);
        using var deadline = AttachedDeadline(out var token);
        watch.Start(client: null, deadline);

        sweep.Tick(UpstreamWaitSweep.Now + 3_600_000);

        Assert.False(token.IsCancellationRequested);
    }

    [Fact]
    public void AStoppedWaitIsNotFiredAndItsDeadlineDoesNotCarryIntoTheNext()
    {
        var sweep = new UpstreamWaitSweep(Never);
        using var watch = new ClientDepartureWatch(sweep);
        using var deadline = AttachedDeadline(out var token);
        watch.Start(client: null, deadline);
        watch.ArmAfter(TimeSpan.FromMilliseconds(1));
        watch.Stop();

        sweep.Tick(UpstreamWaitSweep.Now + 1_000);
        Assert.False(token.IsCancellationRequested);

        // An upload pump arming late, after its forward's wait ended, must not time the next forward.
        watch.ArmAfter(TimeSpan.FromMilliseconds(1));
        watch.Start(client: null, deadline);
        sweep.Tick(UpstreamWaitSweep.Now + 1_000);
        Assert.False(token.IsCancellationRequested);
    }

    [Fact]
    public async Task AClientThatClosedIsSeenAndTheWaitFiredAsGone()
    {
        var sweep = new UpstreamWaitSweep(Never);
        using var watch = new ClientDepartureWatch(sweep);
        using var deadline = AttachedDeadline(out var token);
        using var listener = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        listener.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        listener.Listen();
        using var client = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        await client.ConnectAsync(listener.LocalEndPoint!);
        using var served = await listener.AcceptAsync();
        watch.Start(served, deadline);

        sweep.Tick(UpstreamWaitSweep.Now);
        Assert.False(token.IsCancellationRequested);

        client.Shutdown(SocketShutdown.Send);
        Assert.True(served.Poll(Wait, SelectMode.SelectRead)); // the FIN has arrived
        sweep.Tick(UpstreamWaitSweep.Now);

        Assert.True(token.IsCancellationRequested);
        Assert.True(watch.ClientGone);
    }

    [Fact]
    public async Task TheTimerFiresAWaitAndStopsOnceNothingWaits()
    {
        var sweep = new UpstreamWaitSweep(TimeSpan.FromMilliseconds(10));
        using var watch = new ClientDepartureWatch(sweep);
        using var deadline = AttachedDeadline(out var token);
        Assert.False(sweep.IsRunning);

        watch.Start(client: null, deadline);
        Assert.True(sweep.IsRunning);
        watch.ArmAfter(TimeSpan.FromMilliseconds(30));
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => Task.Delay(Wait, token));
        watch.Stop();

        var until = DateTime.UtcNow + Wait;
        while (sweep.IsRunning && DateTime.UtcNow < until)
        {
            await Task.Delay(10);
        }

        Assert.False(sweep.IsRunning);
        watch.Start(client: null, deadline);
        Assert.True(sweep.IsRunning);
        watch.Stop();
    }

    [Fact]
    public void AWatchIsRegisteredOnItsFirstWaitAndGoneOnceDisposed()
    {
        var sweep = new UpstreamWaitSweep(Never);
        var watch = new ClientDepartureWatch(sweep);
        using var deadline = AttachedDeadline(out _);
        Assert.Equal(0, sweep.Count);

        watch.Start(client: null, deadline);
        watch.Stop();
        watch.Start(client: null, deadline);
        Assert.Equal(1, sweep.Count);

        watch.Dispose();
        Assert.Equal(0, sweep.Count);
        Assert.Throws<ObjectDisposedException>(() => watch.Start(client: null, deadline));
    }

    private static IdleDeadline AttachedDeadline(out CancellationToken token)
    {
        var deadline = new IdleDeadline();
        deadline.Attach(CancellationToken.None);
        token = deadline.Waiting();
        return deadline;
    }
}
