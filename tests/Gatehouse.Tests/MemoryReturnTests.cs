using Gatehouse.Hosting;
using Microsoft.Extensions.Logging.Abstractions;

namespace Gatehouse.Tests;

/// <summary>
/// serve's once-a-minute memory return (issue 18 item 6): a full collection and malloc_trim only
/// after enough allocation, so an idle gateway is left alone. Thresholds are this test's own, since
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
    public void MallocTrimIsCalledWhereGlibcHasIt()
    {
        bool glibc = OperatingSystem.IsLinux() && System.Runtime.InteropServices.NativeLibrary.TryLoad("libc.so.6", out _);
        Assert.Equal(glibc, MemoryReturn.MallocTrim.TryTrim());
    }
}
