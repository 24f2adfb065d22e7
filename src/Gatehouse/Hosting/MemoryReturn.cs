using System.Diagnostics;
using System.Runtime;
using System.Runtime.InteropServices;
using Microsoft.Extensions.Logging;

namespace Gatehouse.Hosting;

/// <summary>
/// Gives memory the process no longer uses back to the system once a minute, for the executable
/// only (issue 18 item 6: RSS must not grow after the first 5 minutes of a soak). The gateway's live
/// managed data is a few MiB, but connection-lifetime objects die in gen2, and the workstation GC
/// lets dead gen2 objects pile up to its gen2 budget (one full collection in 10 minutes of soak
/// traffic: the managed heap went 10 to 16 MiB, committed 14 to 23 MiB), and glibc keeps what
/// OpenSSL freed in its arenas. So, when enough was allocated since the last time: a full,
/// compacting, decommitting collection (<see cref="GCCollectionMode.Aggressive"/>), then
/// malloc_trim(0). An idle gateway allocates nothing and is left alone.
/// </summary>
internal sealed partial class MemoryReturn : IAsyncDisposable
{
    /// <summary>How often to look; a full collection of a heap this small takes milliseconds.</summary>
    public static readonly TimeSpan Interval = TimeSpan.FromSeconds(60);

    /// <summary>Below this many bytes allocated since the last return, the GC's own pace is enough.</summary>
    public const long AllocatedThreshold = 64L * 1024 * 1024;

    private readonly ILogger _logger;
    private readonly long _threshold;
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _loop;
    private long _allocatedAtLast = GC.GetTotalAllocatedBytes();

    public MemoryReturn(ILogger logger, TimeSpan? interval = null, long threshold = AllocatedThreshold)
    {
        _logger = logger;
        _threshold = threshold;
        _loop = RunAsync(interval ?? Interval);
    }

    /// <summary>Returns the memory now if enough was allocated since last time; true when it did.</summary>
    public bool ReturnIfWorthIt()
    {
        long allocated = GC.GetTotalAllocatedBytes();
        if (allocated - _allocatedAtLast < _threshold)
        {
            return false;
        }

        long before = Environment.WorkingSet;
        var watch = Stopwatch.StartNew();
        GCSettings.LargeObjectHeapCompactionMode = GCLargeObjectHeapCompactionMode.CompactOnce;
        GC.Collect(GC.MaxGeneration, GCCollectionMode.Aggressive, blocking: true, compacting: true);
        bool trimmed = MallocTrim.TryTrim();
        watch.Stop();
        _allocatedAtLast = GC.GetTotalAllocatedBytes();
        LogReturned(_logger, (before - Environment.WorkingSet) / 1024, watch.Elapsed.TotalMilliseconds, trimmed);
        return true;
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync().ConfigureAwait(false);
        await _loop.ConfigureAwait(false);
        _stop.Dispose();
    }

    private async Task RunAsync(TimeSpan interval)
    {
        using var timer = new PeriodicTimer(interval);
        try
        {
            while (await timer.WaitForNextTickAsync(_stop.Token).ConfigureAwait(false))
            {
                ReturnIfWorthIt();
            }
        }
        catch (OperationCanceledException)
        {
            // Stopping.
        }
    }

    [LoggerMessage(Level = LogLevel.Debug, Message = "memory returned: working set {FreedKib} KiB smaller after {Milliseconds:F1} ms (malloc_trim: {Trimmed})")]
    private static partial void LogReturned(ILogger logger, long freedKib, double milliseconds, bool trimmed);

    /// <summary>glibc's malloc_trim: frees unused pages in every malloc arena. Absent elsewhere (musl, macOS): nothing done.</summary>
    internal static class MallocTrim
    {
        private const string LibC = "libc.so.6";

        private static readonly bool s_available = OperatingSystem.IsLinux()
            && NativeLibrary.TryLoad(LibC, out IntPtr handle) && NativeLibrary.TryGetExport(handle, "malloc_trim", out _);

        /// <summary>True when malloc_trim was called.</summary>
        public static bool TryTrim()
        {
            if (!s_available)
            {
                return false;
            }

            _ = Native.MallocTrim(0);
            return true;
        }

        private static class Native
        {
            [DllImport(LibC, EntryPoint = "malloc_trim")]
            [DefaultDllImportSearchPaths(DllImportSearchPath.SafeDirectories)]
            public static extern int MallocTrim(nuint pad);
        }
    }
}
