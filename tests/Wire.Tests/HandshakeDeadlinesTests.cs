namespace Gatehouse.Wire.Tests;

/// <summary>
/// The reused handshake deadlines (issue 9): a finished deadline's source is reused with its time
/// reset, a cancelled one never is, the server's stop still cancels, and the pool stays bounded.
/// </summary>
public sealed class HandshakeDeadlinesTests
{
    private static readonly TimeSpan Long = TimeSpan.FromMinutes(5);

    [Fact]
    public void AFinishedDeadlineIsReusedUncancelled()
    {
        var deadlines = new HandshakeDeadlines(Long, capacity: 4);
        HandshakeDeadlines.Deadline first = deadlines.Start(CancellationToken.None);
        deadlines.Finish(first);

        HandshakeDeadlines.Deadline second = deadlines.Start(CancellationToken.None);
        Assert.Same(first.Source, second.Source);
        Assert.False(second.IsCancellationRequested);
        deadlines.Finish(second);
    }

    [Fact]
    public async Task AReusedDeadlineTimesOutAgain()
    {
        var deadlines = new HandshakeDeadlines(TimeSpan.FromSeconds(1), capacity: 4);
        HandshakeDeadlines.Deadline first = deadlines.Start(CancellationToken.None);
        deadlines.Finish(first);

        HandshakeDeadlines.Deadline second = deadlines.Start(CancellationToken.None);
        Assert.Same(first.Source, second.Source);
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => Task.Delay(Timeout.Infinite, second.Token).WaitAsync(TimeSpan.FromSeconds(30)));
        deadlines.Finish(second);
        HandshakeDeadlines.Deadline third = deadlines.Start(CancellationToken.None);
        Assert.NotSame(second.Source, third.Source);
        deadlines.Finish(third);
    }

    [Fact]
    public async Task ATimedOutDeadlineIsNeverReused()
    {
        var deadlines = new HandshakeDeadlines(TimeSpan.FromMilliseconds(1), capacity: 4);
        HandshakeDeadlines.Deadline expired = deadlines.Start(CancellationToken.None);
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => Task.Delay(Timeout.Infinite, expired.Token).WaitAsync(TimeSpan.FromSeconds(30)));
        deadlines.Finish(expired);

        HandshakeDeadlines.Deadline next = deadlines.Start(CancellationToken.None);
        Assert.NotSame(expired.Source, next.Source);
        deadlines.Finish(next);
    }

    [Fact]
    public void StoppingCancelsADeadlineInProgressAndItIsNotReused()
    {
        var deadlines = new HandshakeDeadlines(Long, capacity: 4);
        using var stopping = new CancellationTokenSource();
        HandshakeDeadlines.Deadline running = deadlines.Start(stopping.Token);
        Assert.False(running.IsCancellationRequested);

        stopping.Cancel();
        Assert.True(running.IsCancellationRequested);
        deadlines.Finish(running);
        HandshakeDeadlines.Deadline after = deadlines.Start(CancellationToken.None);
        Assert.NotSame(running.Source, after.Source);
        Assert.False(after.IsCancellationRequested);
        deadlines.Finish(after);

        // Started after the stop: cancelled at once.
        HandshakeDeadlines.Deadline late = deadlines.Start(stopping.Token);
        Assert.True(late.IsCancellationRequested);
        deadlines.Finish(late);
    }

    [Fact]
    public void AStopAfterTheHandshakeNoLongerReachesTheReusedSource()
    {
        var deadlines = new HandshakeDeadlines(Long, capacity: 4);
        using var stopping = new CancellationTokenSource();
        HandshakeDeadlines.Deadline finished = deadlines.Start(stopping.Token);
        deadlines.Finish(finished);

        // The source now serves a handshake of another server: the first server's stop must not end it.
        HandshakeDeadlines.Deadline other = deadlines.Start(CancellationToken.None);
        Assert.Same(finished.Source, other.Source);
        stopping.Cancel();
        Assert.False(other.IsCancellationRequested);
        deadlines.Finish(other);
    }

    [Fact]
    public void RegistrationsLeftOnAFinishedSourceDoNotFireOnItsNextUse()
    {
        var deadlines = new HandshakeDeadlines(Long, capacity: 4);
        HandshakeDeadlines.Deadline first = deadlines.Start(CancellationToken.None);
        bool staleFired = false;
        // What a socket operation leaves behind: a registration never disposed.
        _ = first.Token.Register(() => staleFired = true);
        deadlines.Finish(first);

        HandshakeDeadlines.Deadline second = deadlines.Start(CancellationToken.None);
        Assert.Same(first.Source, second.Source);
        bool currentFired = false;
        using CancellationTokenRegistration current = second.Token.Register(() => currentFired = true);
        second.Source.Cancel();
        Assert.True(currentFired);
        Assert.False(staleFired);
        deadlines.Finish(second);
    }

    [Fact]
    public void KeepsNoMoreThanItsCapacity()
    {
        var deadlines = new HandshakeDeadlines(Long, capacity: 2);
        HandshakeDeadlines.Deadline[] running = [.. Enumerable.Range(0, 5).Select(_ => deadlines.Start(CancellationToken.None))];
        Assert.Equal(5, running.Select(d => d.Source).Distinct().Count());
        foreach (HandshakeDeadlines.Deadline deadline in running)
        {
            deadlines.Finish(deadline);
        }

        // Renting as many again gets back exactly the two kept, then new sources.
        HandshakeDeadlines.Deadline[] again = [.. Enumerable.Range(0, 5).Select(_ => deadlines.Start(CancellationToken.None))];
        Assert.Equal(2, again.Count(d => running.Any(r => ReferenceEquals(r.Source, d.Source))));
        foreach (HandshakeDeadlines.Deadline deadline in again)
        {
            deadlines.Finish(deadline);
        }
    }
}
