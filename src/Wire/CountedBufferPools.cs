using System.Buffers;
using System.Diagnostics.Metrics;

namespace Gatehouse.Wire;

/// <summary>
/// The shared pools with a count of what is out, for an operator or a soak run on the real
/// executable (`gatehouse serve --count-buffers`, issue 18 item 6: "pooled buffers all returned at
/// the end"). Counts only, no bookkeeping per buffer: two interlocked adds per rent. The counts are
/// the observable gauge <c>gatehouse.buffers.outstanding</c> (kind = pipe_block | array) on the
/// metrics endpoint while such pools exist.
/// </summary>
public static class CountedBufferPools
{
    private static readonly CountingMemoryPool MemoryCounter = new();
    private static readonly CountingArrayPool ArrayCounter = new();
    private static int _created;

    /// <summary>Pools over the shared ones that count; one per process (the gauges are process-wide).</summary>
    public static BufferPools Create()
    {
        if (Interlocked.Exchange(ref _created, 1) == 0)
        {
            WireMetrics.ObserveBuffers(Observe);
        }

        return Pools;
    }

    private static BufferPools Pools { get; } = new(MemoryCounter, ArrayCounter);

    /// <summary>Pipe blocks rented and not yet returned.</summary>
    public static long OutstandingBlocks => MemoryCounter.Outstanding;

    /// <summary>Scratch arrays rented and not yet returned.</summary>
    public static long OutstandingArrays => Interlocked.Read(ref ArrayCounter.Outstanding);

    private static IEnumerable<Measurement<long>> Observe() =>
    [
        new(OutstandingBlocks, new KeyValuePair<string, object?>("kind", "pipe_block")),
        new(OutstandingArrays, new KeyValuePair<string, object?>("kind", "array")),
        new(MemoryCounter.Rented, new KeyValuePair<string, object?>("kind", "pipe_block_rented_total")),
        new(Interlocked.Read(ref ArrayCounter.Rented), new KeyValuePair<string, object?>("kind", "array_rented_total")),
    ];

    private sealed class CountingArrayPool : ArrayPool<byte>
    {
        public long Outstanding;
        public long Rented;

        public override byte[] Rent(int minimumLength)
        {
            var array = Shared.Rent(minimumLength);
            if (array.Length > 0)
            {
                Interlocked.Increment(ref Outstanding);
                Interlocked.Increment(ref Rented);
            }

            return array;
        }

        public override void Return(byte[] array, bool clearArray = false)
        {
            ArgumentNullException.ThrowIfNull(array);
            if (array.Length > 0)
            {
                Interlocked.Decrement(ref Outstanding);
                Shared.Return(array, clearArray);
            }
        }
    }
}
