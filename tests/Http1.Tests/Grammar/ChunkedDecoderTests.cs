using System.Buffers;
using Gatehouse.Http1.Grammar;
using Gatehouse.Http1.Tests.Support;

namespace Gatehouse.Http1.Tests.Grammar;

public sealed class ChunkedDecoderTests
{
    [Fact]
    public void DecodesABufferedBodyToTheEndInOneCall()
    {
        var decoder = new ChunkedDecoder(64, 64);
        var reader = new SequenceReader<byte>(new ReadOnlySequence<byte>(Bytes.Of("5\r\nhello\r\n0\r\nX-A: b\r\n\r\nNEXT")));
        var destination = new byte[16];
        Assert.Equal(ChunkedStep.Done, decoder.Decode(ref reader, destination, out var copied));
        Assert.Equal("hello", Bytes.Show(destination.AsSpan(0, copied)));
        Assert.True(decoder.IsComplete);
        Assert.Equal("NEXT", Bytes.Show(reader.UnreadSpan));
    }

    [Fact]
    public void HandsOnTheDataBeforeAFaultThatFollowsIt()
    {
        var decoder = new ChunkedDecoder(64, 64);
        var bytes = Bytes.Of("5\r\nhello\r\n5;a \r\nworld\r\n0\r\n\r\n");
        var reader = new SequenceReader<byte>(new ReadOnlySequence<byte>(bytes));
        var destination = new byte[16];
        Assert.Equal(ChunkedStep.Progress, decoder.Decode(ref reader, destination, out var copied));
        Assert.Equal("hello", Bytes.Show(destination.AsSpan(0, copied)));
        Assert.Equal("5;a \\r\\n", Bytes.Show(reader.UnreadSpan[..6]));
        Assert.Equal(ChunkedStep.Fault, decoder.Decode(ref reader, destination, out copied));
        Assert.Equal(0, copied);
        Assert.Equal(GrammarFault.InvalidChunkExtension, decoder.Fault);
    }

    [Fact]
    public void StopsWhenTheDestinationIsFull()
    {
        var decoder = new ChunkedDecoder(64, 64);
        var reader = new SequenceReader<byte>(new ReadOnlySequence<byte>(Bytes.Of("5\r\nhello\r\n0\r\n\r\n")));
        var destination = new byte[3];
        Assert.Equal(ChunkedStep.Progress, decoder.Decode(ref reader, destination, out var copied));
        Assert.Equal(3, copied);
        Assert.Equal(ChunkedStep.Done, decoder.Decode(ref reader, destination, out copied));
        Assert.Equal("lo", Bytes.Show(destination.AsSpan(0, copied)));
    }

    [Theory]
    [InlineData("5;" + "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx" + "\r\n", GrammarFault.ChunkLineTooLong)]
    [InlineData("0\r\nX-A: bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb\r\n\r\n", GrammarFault.TrailersTooLarge)]
    [InlineData("0\r\nX-A: b\r\n folded\r\n\r\n", GrammarFault.ObsoleteLineFolding)]
    [InlineData("5\r\nhelloXX", GrammarFault.ChunkDataNotTerminated)]
    public void NamesTheFaultWithTheLimitsPassedIn(string wire, GrammarFault fault)
    {
        var decoder = new ChunkedDecoder(16, 32);
        var reader = new SequenceReader<byte>(new ReadOnlySequence<byte>(Bytes.Of(wire)));
        var destination = new byte[16];
        var step = decoder.Decode(ref reader, destination, out var copied);
        if (step == ChunkedStep.Progress)
        {
            step = decoder.Decode(ref reader, destination, out copied);
        }

        Assert.Equal(ChunkedStep.Fault, step);
        Assert.Equal(fault, decoder.Fault);
    }
}
