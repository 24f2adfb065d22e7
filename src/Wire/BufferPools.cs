using System.Buffers;

namespace Gatehouse.Wire;

/// <summary>
/// Where every connection's pooled buffers come from: the pipes' blocks (<see cref="Memory"/>) and
/// the scratch arrays of bodies, forwards, tunnels and uploads (<see cref="Arrays"/>). Production
/// uses the shared pools (<see cref="Shared"/>); a test hands the server counting pools to prove
/// that every block rented during a scenario came back (issue 10: nothing leaked on any abort).
/// </summary>
public sealed class BufferPools
{
    public BufferPools(MemoryPool<byte> memory, ArrayPool<byte> arrays)
    {
        ArgumentNullException.ThrowIfNull(memory);
        ArgumentNullException.ThrowIfNull(arrays);
        Memory = memory;
        Arrays = arrays;
    }

    /// <summary>The process-wide pools; the default everywhere.</summary>
    public static BufferPools Shared { get; } = new(MemoryPool<byte>.Shared, ArrayPool<byte>.Shared);

    /// <summary>Blocks of the connections' pipe readers and writers, client side and upstream side.</summary>
    public MemoryPool<byte> Memory { get; }

    /// <summary>Scratch arrays rented for the length of one body, forward, tunnel or upload.</summary>
    public ArrayPool<byte> Arrays { get; }
}
