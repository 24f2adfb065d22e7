using System.Buffers;

namespace Gatehouse.Http1.Tests.Support;

/// <summary>Feeds bytes to <see cref="RequestHeadParser"/> the ways the connection loop can: whole, in two segments, byte by byte.</summary>
internal static class ParserDriver
{
    public static Request Whole(byte[] bytes, Http1Limits? limits = null) =>
        ParseSequence(new ReadOnlySequence<byte>(bytes), limits, out _) ?? throw new InvalidOperationException("incomplete: " + Bytes.Show(bytes));

    /// <summary>Parses once; null when the parser wants more bytes.</summary>
    public static Request? ParseSequence(ReadOnlySequence<byte> sequence, Http1Limits? limits, out long consumed)
    {
        var parser = new RequestHeadParser(limits ?? new Http1Limits());
        var reader = new SequenceReader<byte>(sequence);
        var done = parser.TryParse(ref reader, out var request);
        consumed = reader.Consumed;
        return done ? request : null;
    }

    /// <summary>
    /// Feeds one more byte per call, like a slow client, keeping the parser between calls and
    /// advancing as the connection loop does (consumed = the reader's position; the rest is offered again).
    /// </summary>
    public static Request ByteByByte(byte[] bytes, Http1Limits? limits, out long consumed)
    {
        var parser = new RequestHeadParser(limits ?? new Http1Limits());
        consumed = 0;
        for (var fed = 1; fed <= bytes.Length; fed++)
        {
            var reader = new SequenceReader<byte>(new ReadOnlySequence<byte>(bytes, (int)consumed, fed - (int)consumed));
            var done = parser.TryParse(ref reader, out var request);
            consumed += reader.Consumed;
            if (done)
            {
                return request!;
            }
        }

        throw new InvalidOperationException("incomplete after every byte: " + Bytes.Show(bytes));
    }

    public static RequestRejectedException Rejects(string raw, Http1Limits? limits = null)
    {
        var bytes = Bytes.Of(raw);
        var whole = Assert.Throws<RequestRejectedException>(() => ParseSequence(new ReadOnlySequence<byte>(bytes), limits, out _));
        var slow = Assert.Throws<RequestRejectedException>(() => ByteByByte(bytes, limits, out _));
        Assert.Equal(whole.Reason, slow.Reason);
        return whole;
    }
}
