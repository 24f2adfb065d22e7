using System.Buffers;

namespace Gatehouse.Bench;

/// <summary>Builds a two-segment sequence, as a read that straddles two TLS records yields.</summary>
internal static class Segments
{
    public static ReadOnlySequence<byte> Split(byte[] data, int at)
    {
        var first = new Segment(data.AsMemory(0, at));
        var last = first.Append(data.AsMemory(at));
        return new ReadOnlySequence<byte>(first, 0, last, last.Memory.Length);
    }

    private sealed class Segment : ReadOnlySequenceSegment<byte>
    {
        public Segment(ReadOnlyMemory<byte> memory) => Memory = memory;

        public Segment Append(ReadOnlyMemory<byte> memory)
        {
            var next = new Segment(memory) { RunningIndex = RunningIndex + Memory.Length };
            Next = next;
            return next;
        }
    }
}
