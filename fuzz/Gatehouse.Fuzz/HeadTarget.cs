using System.Buffers;
using Gatehouse.Http1;
using Gatehouse.Http1.Tests.Support;

namespace Gatehouse.Fuzz;

/// <summary>
/// Target 1: <see cref="RequestHeadParser"/>. The input is offered three ways: whole in one segment,
/// as two segments cut at a position derived from the first byte, and incrementally (the prefix
/// first, then everything from what the parser consumed, as the connection loop does). All three
/// must reach the same verdict: the same reject reason, "needs more", or the same request and the
/// same number of consumed bytes. Only <see cref="RequestRejectedException"/> is an expected failure;
/// every other exception escapes and is a crash.
/// </summary>
internal static class HeadTarget
{
    /// <summary>Tighter than the defaults so short inputs can reach every limit branch.</summary>
    private static readonly Http1Limits FuzzLimits = new()
    {
        MaxRequestLineBytes = 512,
        MaxHeaderBytes = 2048,
        MaxHeaderCount = 32,
    };

    public static void Run(byte[] input)
    {
        if (input.Length == 0)
        {
            return;
        }

        var at = SplitPosition(input);
        var whole = Verdict(input, new ReadOnlySequence<byte>(input));
        var twoSegments = Verdict(input, TwoSegments(input, at));
        if (whole != twoSegments)
        {
            throw new PropertyViolationException($"split at {at} into two segments: whole gave <{whole}>, two segments gave <{twoSegments}>");
        }

        var incremental = Incremental(input, at);
        if (whole != incremental)
        {
            throw new PropertyViolationException($"fed incrementally, first {at} bytes then the rest: whole gave <{whole}>, incremental gave <{incremental}>");
        }
    }

    /// <summary>A cut in [0, length] from the first byte (and the length, so one method byte still moves the cut about).</summary>
    public static int SplitPosition(byte[] input) => (input[0] * 131 + input.Length) % (input.Length + 1);

    private static string Verdict(byte[] input, ReadOnlySequence<byte> sequence)
    {
        var parser = new RequestHeadParser(FuzzLimits);
        var reader = new SequenceReader<byte>(sequence);
        try
        {
            return parser.TryParse(ref reader, out var request)
                ? Accepted(input, request!, reader.Consumed)
                : "needs more";
        }
        catch (RequestRejectedException e)
        {
            return "rejected " + e.Reason;
        }
    }

    private static string Incremental(byte[] input, int at)
    {
        var parser = new RequestHeadParser(FuzzLimits);
        try
        {
            var first = new SequenceReader<byte>(new ReadOnlySequence<byte>(input, 0, at));
            if (parser.TryParse(ref first, out var early))
            {
                return Accepted(input, early!, first.Consumed);
            }

            var consumed = (int)first.Consumed;
            var rest = new SequenceReader<byte>(new ReadOnlySequence<byte>(input, consumed, input.Length - consumed));
            return parser.TryParse(ref rest, out var request)
                ? Accepted(input, request!, consumed + rest.Consumed)
                : "needs more";
        }
        catch (RequestRejectedException e)
        {
            return "rejected " + e.Reason;
        }
    }

    private static string Accepted(byte[] input, Request request, long consumed)
    {
        if (consumed <= 0 || consumed > input.Length || input[(int)consumed - 1] != (byte)'\n')
        {
            throw new PropertyViolationException($"accepted a request but consumed {consumed} of {input.Length} bytes, not ending at a line feed");
        }

        // What the forwarder will send must judge the same as what the policy saw.
        TargetTarget.CheckRoundTrip(request.Target);
        return "accepted " + ParsedRequestText.Of(request) + " consumed " + consumed;
    }

    private static ReadOnlySequence<byte> TwoSegments(byte[] bytes, int at)
    {
        var first = new Segment(bytes.AsSpan(0, at).ToArray());
        var last = first.Append(bytes.AsSpan(at).ToArray());
        return new ReadOnlySequence<byte>(first, 0, last, last.Memory.Length);
    }

    private sealed class Segment : ReadOnlySequenceSegment<byte>
    {
        public Segment(ReadOnlyMemory<byte> memory)
        {
            Memory = memory;
        }

        public Segment Append(ReadOnlyMemory<byte> memory)
        {
            var next = new Segment(memory) { RunningIndex = RunningIndex + Memory.Length };
            Next = next;
            return next;
        }
    }
}
