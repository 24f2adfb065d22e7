using System.Buffers;

namespace Gatehouse.Http1.Tests.Support;

/// <summary>A linked buffer segment, to build multi-segment <see cref="ReadOnlySequence{T}"/>s for split-point tests.</summary>
internal sealed class BufferSegment : ReadOnlySequenceSegment<byte>
{
    public BufferSegment(ReadOnlyMemory<byte> memory)
    {
        Memory = memory;
    }

    public BufferSegment Append(ReadOnlyMemory<byte> memory)
    {
        var next = new BufferSegment(memory) { RunningIndex = RunningIndex + Memory.Length };
        Next = next;
        return next;
    }

    /// <summary>The bytes as two segments split at <paramref name="at"/> (each copied to its own array, so reads across the seam are real).</summary>
    public static ReadOnlySequence<byte> Split(byte[] bytes, int at)
    {
        var first = new BufferSegment(bytes.AsSpan(0, at).ToArray());
        var last = first.Append(bytes.AsSpan(at).ToArray());
        return new ReadOnlySequence<byte>(first, 0, last, last.Memory.Length);
    }
}
