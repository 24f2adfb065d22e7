using System.Buffers;

namespace Gatehouse.Wire;

/// <summary>
/// The shared memory pool with a count of the blocks rented and not yet returned (a block
/// disposed twice counts once). Used by <c>serve --count-buffers</c> and by the tests' leak checks.
/// </summary>
public sealed class CountingMemoryPool : MemoryPool<byte>
{
    private long _outstanding;
    private long _rented;

    /// <summary>Blocks rented and not yet returned.</summary>
    public long Outstanding => Interlocked.Read(ref _outstanding);

    /// <summary>Blocks rented so far.</summary>
    public long Rented => Interlocked.Read(ref _rented);

    // The pipes fall back to unpooled arrays for requests above this: keep it the shared pool's.
    public override int MaxBufferSize => Shared.MaxBufferSize;

    public override IMemoryOwner<byte> Rent(int minBufferSize = -1)
    {
        Interlocked.Increment(ref _outstanding);
        Interlocked.Increment(ref _rented);
        return new Block(this, Shared.Rent(minBufferSize));
    }

    protected override void Dispose(bool disposing)
    {
    }

    private sealed class Block(CountingMemoryPool pool, IMemoryOwner<byte> inner) : IMemoryOwner<byte>
    {
        private int _returned;

        public Memory<byte> Memory => inner.Memory;

        public void Dispose()
        {
            if (Interlocked.Exchange(ref _returned, 1) == 0)
            {
                Interlocked.Decrement(ref pool._outstanding);
                inner.Dispose();
            }
        }
    }
}
