using System.Buffers;
using System.IO.Pipelines;
using Gatehouse.Http1.Tests.Support;

namespace Gatehouse.Http1.Tests.Deadlines;

/// <summary>
/// The shared deadline sweep (issue 9), ticked by hand: a read past its deadline is cut as a
/// timeout, one still inside it or already finished is left alone, and an interruption that is
/// not a deadline (a server stopping) reads as a cancelled read, not a timeout.
/// </summary>
public sealed class DeadlineSweepTests
{
    // Ticks only when a test calls Tick: a period no test lives to see.
    private static DeadlineSweep HandTicked() => new(TimeSpan.FromHours(1));

    [Fact]
    public async Task CutsAReadOnlyOnceItsDeadlineHasPassed()
    {
        var sweep = HandTicked();
        var pipe = new Pipe();
        using var input = new ConnectionInput(pipe.Reader, sweep: sweep);

        var deadline = ConnectionInput.DeadlineAfter(TimeSpan.FromMinutes(1));
        var read = input.ReadBeforeAsync(deadline).AsTask();
        sweep.Tick(deadline - 1);
        Assert.False(read.IsCompleted);

        sweep.Tick(deadline);
        await Assert.ThrowsAsync<TimeoutException>(() => read);
    }

    [Fact]
    public async Task LeavesAFinishedReadAndTheNextOneAlone()
    {
        var sweep = HandTicked();
        var pipe = new Pipe();
        using var input = new ConnectionInput(pipe.Reader, sweep: sweep);

        var deadline = ConnectionInput.DeadlineAfter(TimeSpan.FromMinutes(1));
        var first = input.ReadBeforeAsync(deadline);
        await pipe.Writer.WriteAsync(Bytes.Of("a"));
        var result = await first;
        input.Reader.AdvanceTo(result.Buffer.End);

        sweep.Tick(deadline + 1); // the first read's deadline, long after it finished
        var second = input.ReadBeforeAsync(ConnectionInput.DeadlineAfter(TimeSpan.FromMinutes(5))).AsTask();
        await pipe.Writer.WriteAsync(Bytes.Of("b"));
        var next = await second;
        Assert.Equal("b", Bytes.Show(next.Buffer.ToArray()));
        Assert.False(next.IsCanceled);
    }

    [Fact]
    public async Task AnInterruptionThatIsNoDeadlineReadsAsACancelledRead()
    {
        var sweep = HandTicked();
        var pipe = new Pipe();
        using var input = new ConnectionInput(pipe.Reader, sweep: sweep);

        var read = input.ReadBeforeAsync(ConnectionInput.DeadlineAfter(TimeSpan.FromMinutes(1)));
        input.Interrupt();
        Assert.True((await read).IsCanceled);
    }

    [Fact]
    public async Task ADisposedInputIsNoLongerSwept()
    {
        var sweep = HandTicked();
        var pipe = new Pipe();
        var input = new ConnectionInput(pipe.Reader, sweep: sweep);
        var read = input.ReadBeforeAsync(ConnectionInput.DeadlineAfter(TimeSpan.FromMinutes(1))).AsTask();
        input.Dispose();

        sweep.Tick(long.MaxValue - 2);
        Assert.False(read.IsCompleted);
        await pipe.Writer.WriteAsync(Bytes.Of("x"));
        Assert.False((await read).IsCanceled);
    }

    [Fact]
    public async Task ThrowsAtOnceForADeadlineAlreadyPast()
    {
        var pipe = new Pipe();
        using var input = new ConnectionInput(pipe.Reader, sweep: HandTicked());
        await Assert.ThrowsAsync<TimeoutException>(async () => await input.ReadBeforeAsync(DeadlineSweep.Now - 1));
    }

    [Fact]
    public async Task CutsOnlyTheExpiredReadsAmongThousandsAcrossChunks()
    {
        var sweep = HandTicked();
        const int count = (DeadlineSweep.ChunkSize * 2) + 100; // three chunks of cells
        var now = DeadlineSweep.Now;
        var inputs = new List<(ConnectionInput Input, Pipe Pipe, Task<ReadResult> Read, bool Due)>();
        for (var i = 0; i < count; i++)
        {
            var pipe = new Pipe();
            var input = new ConnectionInput(pipe.Reader, sweep: sweep);
            var due = i % 97 == 0 || i == count - 1;
            var deadline = due ? now + 1_000 : now + 60_000;
            inputs.Add((input, pipe, input.ReadBeforeAsync(deadline).AsTask(), due));
        }

        sweep.Tick(now + 1_000);

        foreach (var (input, pipe, read, due) in inputs)
        {
            if (due)
            {
                await Assert.ThrowsAsync<TimeoutException>(() => read);
            }
            else
            {
                Assert.False(read.IsCompleted);
                await pipe.Writer.WriteAsync(Bytes.Of("x"));
                Assert.False((await read).IsCanceled);
            }

            input.Dispose();
        }
    }

    [Fact]
    public async Task AReusedCellStartsWithoutTheDeadlineOfItsLastHolder()
    {
        var sweep = HandTicked();
        var now = DeadlineSweep.Now;
        var oldPipe = new Pipe();
        var old = new ConnectionInput(oldPipe.Reader, sweep: sweep);
        var oldRead = old.ReadBeforeAsync(now + 1_000).AsTask();
        old.Dispose(); // its cell goes back with a read (and a deadline) in flight

        var pipe = new Pipe();
        using var next = new ConnectionInput(pipe.Reader, sweep: sweep);
        Assert.Equal(-1, old.Slot);
        Assert.Equal(0, next.Slot); // the same cell, handed on

        // The old input's late read finishes and disarms: that must not reach the new holder's cell.
        var read = next.ReadBeforeAsync(now + 1_000).AsTask();
        await oldPipe.Writer.WriteAsync(Bytes.Of("late"));
        Assert.False((await oldRead).IsCanceled);

        sweep.Tick(now + 1_000);
        await Assert.ThrowsAsync<TimeoutException>(() => read);
    }
}
