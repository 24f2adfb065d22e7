using System.Diagnostics;
using System.Runtime;
using System.Runtime.InteropServices;
using Gatehouse.Http1;
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
/// malloc_trim(0). An idle gateway allocates nothing and is left alone. A busy one (requests at
/// <see cref="BusyRequestsPerSecond"/> or more) has the return put off to a quieter second, for at
/// most <see cref="MaxPostpone"/>: the collection stalls every thread, for 141 ms with 19,000 idle TLS
/// connections live, and only a busy gateway's requests wait through it.
/// </summary>
internal sealed partial class MemoryReturn : IAsyncDisposable
{
    /// <summary>How often to look; a full collection of a heap this small takes milliseconds.</summary>
    public static readonly TimeSpan Interval = TimeSpan.FromSeconds(60);

    /// <summary>Below this many bytes allocated since the last return, the GC's own pace is enough.</summary>
    public const long AllocatedThreshold = 64L * 1024 * 1024;

    /// <summary>
    /// From this many requests answered in a second, the gateway is busy and the return waits: with
    /// 19,000 idle TLS connections live, the blocking full collection took 141 ms, a stall every busy
    /// request meets (issue 22 item 3: one in a 10 s run doubled its p99).
    /// </summary>
    public const long BusyRequestsPerSecond = 1_000;

    /// <summary>The longest a busy gateway puts the return off: memory stays bounded under constant load.</summary>
    public static readonly TimeSpan MaxPostpone = TimeSpan.FromMinutes(10);

    private readonly ILogger _logger;
    private readonly long _threshold;
    private readonly Func<long> _requestsAnswered;
    private readonly TimeSpan _busyWindow;
    private readonly TimeSpan _maxPostpone;
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _loop;
    private long _allocatedAtLast = GC.GetTotalAllocatedBytes();
    private int _returns;

    /// <param name="requestsAnswered">The process's count of answered requests (<see cref="HttpMetrics.RequestsAnswered"/> unless a test brings its own).</param>
    /// <param name="busyWindow">How long the request count is watched to tell a busy gateway; <see cref="BusyRequestsPerSecond"/> scaled to it.</param>
    public MemoryReturn(ILogger logger, TimeSpan? interval = null, long threshold = AllocatedThreshold,
        Func<long>? requestsAnswered = null, TimeSpan? busyWindow = null, TimeSpan? maxPostpone = null)
    {
        _logger = logger;
        _threshold = threshold;
        _requestsAnswered = requestsAnswered ?? (static () => HttpMetrics.RequestsAnswered);
        _busyWindow = busyWindow ?? TimeSpan.FromSeconds(1);
        _maxPostpone = maxPostpone ?? MaxPostpone;
        _loop = RunAsync(interval ?? Interval);
    }

    /// <summary>How many times memory was returned (for tests).</summary>
    internal int Returns => Volatile.Read(ref _returns);

    /// <summary>True when enough was allocated since the last return for one to be worth its stall.</summary>
    public bool IsWorthIt() => GC.GetTotalAllocatedBytes() - _allocatedAtLast >= _threshold;

    /// <summary>Returns the memory now if enough was allocated since last time; true when it did.</summary>
    public bool ReturnIfWorthIt()
    {
        if (!IsWorthIt())
        {
            return false;
        }

        long before = Environment.WorkingSet;
        var watch = Stopwatch.StartNew();
        GCSettings.LargeObjectHeapCompactionMode = GCLargeObjectHeapCompactionMode.CompactOnce;
        GC.Collect(GC.MaxGeneration, GCCollectionMode.Aggressive, blocking: true, compacting: true);
        var collectMs = watch.Elapsed.TotalMilliseconds;
        bool trimmed = MallocTrim.TryTrim();
        watch.Stop();
        _allocatedAtLast = GC.GetTotalAllocatedBytes();
        Interlocked.Increment(ref _returns);
        LogReturned(_logger, (before - Environment.WorkingSet) / 1024, watch.Elapsed.TotalMilliseconds, collectMs, trimmed);
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
                if (!IsWorthIt())
                {
                    continue;
                }

                // The stall is the same for an idle gateway and a busy one, but only a busy one's
                // requests wait through it: put it off to a quieter second, within reason.
                var since = Stopwatch.GetTimestamp();
                while (Stopwatch.GetElapsedTime(since) < _maxPostpone && await IsBusyAsync().ConfigureAwait(false))
                {
                    LogPostponed(_logger);
                }

                ReturnIfWorthIt();
            }
        }
        catch (OperationCanceledException)
        {
            // Stopping.
        }
    }

    /// <summary>True when the gateway answered requests at <see cref="BusyRequestsPerSecond"/> or faster over the next busy window.</summary>
    private async Task<bool> IsBusyAsync()
    {
        var before = _requestsAnswered();
        await Task.Delay(_busyWindow, _stop.Token).ConfigureAwait(false);
        return _requestsAnswered() - before >= BusyRequestsPerSecond * _busyWindow.TotalSeconds;
    }

    [LoggerMessage(Level = LogLevel.Debug, Message = "memory return put off: the gateway is busy")]
    private static partial void LogPostponed(ILogger logger);

    [LoggerMessage(Level = LogLevel.Debug, Message = "memory returned: working set {FreedKib} KiB smaller after {Milliseconds:F1} ms, {CollectMilliseconds:F1} of them the full collection (malloc_trim: {Trimmed})")]
    private static partial void LogReturned(ILogger logger, long freedKib, double milliseconds, double collectMilliseconds, bool trimmed);

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
