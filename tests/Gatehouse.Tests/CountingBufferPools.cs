using System.Buffers;
using System.Collections.Concurrent;
using Gatehouse.Wire;

namespace Gatehouse.Tests;

/// <summary>
/// Pools for a server under test that count what is out (issue 10: "a check that every pooled
/// block came back"). Blocks come from the shared pools; an array returned that was not out
/// (returned twice, or never rented here) is a fault: it would hand one request's buffer to two.
/// </summary>
internal sealed class CountingBufferPools
{
    private readonly CountingMemoryPool _memory = new();
    private readonly CountingArrayPool _arrays = new();

    public CountingBufferPools()
    {
        Pools = new BufferPools(_memory, _arrays);
    }

    public BufferPools Pools { get; }

    /// <summary>Pipe blocks and arrays rented and not yet returned.</summary>
    public long Outstanding => _memory.Outstanding + _arrays.Outstanding;

    /// <summary>Every block and array rented so far (a scenario that rented nothing proves nothing).</summary>
    public long Rented => _memory.Rented + _arrays.Rented;

    public IReadOnlyCollection<string> Faults => _arrays.Faults;

    public string Describe() =>
        $"{_memory.Outstanding} pipe block(s) of {_memory.Rented} and {_arrays.Outstanding} array(s) of {_arrays.Rented} still out; faults: [{string.Join("; ", Faults)}]";

    private sealed class CountingArrayPool : ArrayPool<byte>
    {
        private readonly ConcurrentDictionary<byte[], byte> _out = new(ReferenceEqualityComparer.Instance);
        private readonly ConcurrentQueue<string> _faults = new();
        private long _rented;

        public int Outstanding => _out.Count;

        public long Rented => Interlocked.Read(ref _rented);

        public IReadOnlyCollection<string> Faults => _faults;

        public override byte[] Rent(int minimumLength)
        {
            var array = Shared.Rent(minimumLength);
            if (array.Length > 0)
            {
                Interlocked.Increment(ref _rented);
                _out[array] = 0;
            }

            return array;
        }

        public override void Return(byte[] array, bool clearArray = false)
        {
            if (array.Length == 0)
            {
                return;
            }

            if (!_out.TryRemove(array, out _))
            {
                // Never pass it on: the shared pool would then hold it twice.
                _faults.Enqueue($"an array of {array.Length} bytes came back that was not out (returned twice?)");
                return;
            }

            Shared.Return(array, clearArray);
        }
    }
}
