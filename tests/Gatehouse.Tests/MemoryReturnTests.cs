using Gatehouse.Hosting;
using Microsoft.Extensions.Logging.Abstractions;

namespace Gatehouse.Tests;

/// <summary>
/// serve's once-a-minute memory return (issue 18 item 6): a full collection and malloc_trim only
/// after enough allocation, so an idle gateway is left alone, and not while the gateway is busy
/// (issue 22 item 3), unless it stays busy past the postponement. Thresholds are this test's own, since
/// other tests allocate in the same process.
/// </summary>
public sealed class MemoryReturnTests
{
    [Fact]
    public async Task CollectsFullyOnlyAfterTheThresholdWasAllocated()
    {
        await using (var never = new MemoryReturn(NullLogger.Instance, TimeSpan.FromHours(1), threshold: long.MaxValue / 2))
        {
            Assert.False(never.ReturnIfWorthIt());
        }

        const long threshold = 8 * 1024 * 1024;
        await using var memory = new MemoryReturn(NullLogger.Instance, TimeSpan.FromHours(1), threshold);
        long allocated = 0;
        while (allocated < 2 * threshold)
        {
            GC.KeepAlive(new byte[64 * 1024]);
            allocated += 64 * 1024;
        }

        int fullBefore = GC.CollectionCount(GC.MaxGeneration);
        Assert.True(memory.ReturnIfWorthIt());
        Assert.True(GC.CollectionCount(GC.MaxGeneration) > fullBefore);
    }

    [Fact]
    public async Task ABusyGatewayPutsTheReturnOffUntilAQuietWindow()
    {
        long answered = 0;
        var busy = true;
        // Each look while busy finds a million more requests answered; while quiet, none.
        long Count() => Volatile.Read(ref busy) ? Interlocked.Add(ref answered, 1_000_000) : Volatile.Read(ref answered);
        await using var memory = new MemoryReturn(NullLogger.Instance, TimeSpan.FromMilliseconds(50), threshold: 0,
            requestsAnswered: Count, busyWindow: TimeSpan.FromMilliseconds(20), maxPostpone: TimeSpan.FromHours(1));

        await Task.Delay(TimeSpan.FromMilliseconds(500)); // ten ticks, each found it worth it and the gateway busy
        Assert.Equal(0, memory.Returns);

        Volatile.Write(ref busy, false);
        Assert.True(await WaitForAsync(() => memory.Returns > 0), "no return once the gateway went quiet");
    }

    [Fact]
    public async Task AGatewayBusyForLongerThanThePostponementStillReturnsMemory()
    {
        long answered = 0;
        await using var memory = new MemoryReturn(NullLogger.Instance, TimeSpan.FromMilliseconds(50), threshold: 0,
            requestsAnswered: () => Interlocked.Add(ref answered, 1_000_000), busyWindow: TimeSpan.FromMilliseconds(20),
            maxPostpone: TimeSpan.FromMilliseconds(200));

        Assert.True(await WaitForAsync(() => memory.Returns > 0), "a busy gateway never returned memory");
    }

    private static async Task<bool> WaitForAsync(Func<bool> condition)
    {
        var until = DateTime.UtcNow + TimeSpan.FromSeconds(10);
        while (!condition() && DateTime.UtcNow < until)
        {
            await Task.Delay(20);
        }

        return condition();
    }

    [Fact]
    public void MallocTrimIsCalledWhereGlibcHasIt()
    {
        bool glibc = OperatingSystem.IsLinux() && System.Runtime.InteropServices.NativeLibrary.TryLoad("libc.so.6", out _);
        Assert.Equal(glibc, MemoryReturn.MallocTrim.TryTrim());
    }
}
