using System.Buffers;
using Gatehouse.Http1.Grammar;
using Gatehouse.Http1.Tests.Support;

namespace Gatehouse.Http1.Tests.Grammar;

public sealed class Http1GrammarTests
{
    [Theory]
    [InlineData("5", 5L)]
    [InlineData("a", 10L)]
    [InlineData("A", 10L)]
    [InlineData("0", 0L)]
    [InlineData("000000000000000000000000000005", 5L)] // zero padding is free, as in llhttp and Kestrel
    [InlineData("7FFFFFFFFFFFFFFF", long.MaxValue)]
    [InlineData("5 ;a", 5L)]
    [InlineData("5;a ;b", 5L)]
    [InlineData("5;a\t= b", 5L)]
    [InlineData("5;a=\"q \\\" ;v\"", 5L)]
    [InlineData("5;a=b;c", 5L)]
    public void AcceptsChunkSizeLines(string line, long size)
    {
        Assert.Equal(GrammarFault.None, Http1Grammar.ParseChunkSizeLine(Bytes.Of(line), out var parsed));
        Assert.Equal(size, parsed);
    }

    [Theory]
    [InlineData("", GrammarFault.InvalidChunkSize)]
    [InlineData(" 5", GrammarFault.InvalidChunkSize)]
    [InlineData("-5", GrammarFault.InvalidChunkSize)]
    [InlineData("8000000000000000", GrammarFault.ChunkSizeTooLarge)]
    [InlineData("10000000000000000", GrammarFault.ChunkSizeTooLarge)]
    [InlineData("5 ", GrammarFault.InvalidChunkExtension)]
    [InlineData("5;a ", GrammarFault.InvalidChunkExtension)] // the client and the upstream once disagreed here
    [InlineData("5;a=b ", GrammarFault.InvalidChunkExtension)]
    [InlineData("5;", GrammarFault.InvalidChunkExtension)]
    [InlineData("5;=b", GrammarFault.InvalidChunkExtension)]
    [InlineData("5;a=", GrammarFault.InvalidChunkExtension)]
    [InlineData("5;a=\"open", GrammarFault.InvalidChunkExtension)]
    [InlineData("5;a=\"nul\0\"", GrammarFault.InvalidChunkExtension)]
    [InlineData("5;a=b c", GrammarFault.InvalidChunkExtension)]
    [InlineData("5a;x\r", GrammarFault.InvalidChunkExtension)]
    [InlineData("5 a", GrammarFault.InvalidChunkExtension)]
    public void RefusesChunkSizeLines(string line, GrammarFault fault)
    {
        Assert.Equal(fault, Http1Grammar.ParseChunkSizeLine(Bytes.Of(line), out _));
    }

    [Theory]
    [InlineData("Host: example", "Host", "example")]
    [InlineData("X-A:\t v w \t", "X-A", "v w")]
    [InlineData("X-Empty:", "X-Empty", "")]
    [InlineData("X-Latin: \u00e9", "X-Latin", "\u00e9")]
    public void SplitsFieldLines(string line, string name, string value)
    {
        Assert.Equal(GrammarFault.None, Http1Grammar.SplitFieldLine(Bytes.Of(line), out var n, out var v));
        Assert.Equal(name, Bytes.Show(n));
        Assert.Equal(value, Bytes.Show(v));
    }

    [Theory]
    [InlineData(" folded", GrammarFault.ObsoleteLineFolding)]
    [InlineData("\tfolded", GrammarFault.ObsoleteLineFolding)]
    [InlineData("X-A : b", GrammarFault.InvalidFieldName)]
    [InlineData(": b", GrammarFault.InvalidFieldName)]
    [InlineData("no colon", GrammarFault.InvalidFieldName)]
    [InlineData("X(A): b", GrammarFault.InvalidFieldName)]
    [InlineData("X-A: a\0b", GrammarFault.InvalidFieldValue)]
    [InlineData("X-A: a\rb", GrammarFault.InvalidFieldValue)]
    [InlineData("X-A: a\u007fb", GrammarFault.InvalidFieldValue)]
    public void RefusesFieldLines(string line, GrammarFault fault)
    {
        Assert.Equal(fault, Http1Grammar.SplitFieldLine(Bytes.Of(line), out _, out _));
    }

    [Theory]
    [InlineData("abc\r\nrest", 8, "abc", GrammarFault.None)]
    [InlineData("\r\n", 8, "", GrammarFault.None)]
    [InlineData("abc\nrest", 8, null, GrammarFault.BareLineFeed)]
    [InlineData("\n", 8, null, GrammarFault.BareLineFeed)]
    [InlineData("abcdefghij\r\n", 8, null, GrammarFault.LineTooLong)]
    [InlineData("abcdefghij", 8, null, GrammarFault.LineTooLong)]
    [InlineData("abc\r", 8, null, GrammarFault.None)] // incomplete: more bytes needed
    public void ReadsLinesAcrossEverySegmentSplit(string text, int budget, string? line, GrammarFault fault)
    {
        var bytes = Bytes.Of(text);
        for (var split = 0; split <= bytes.Length; split++)
        {
            var reader = new SequenceReader<byte>(BufferSegment.Split(bytes, split));
            var read = Http1Grammar.TryReadLine(ref reader, budget, out var span, out var actual);
            Assert.Equal(fault, actual);
            Assert.Equal(line is not null, read);
            if (line is not null)
            {
                Assert.Equal(line, Bytes.Show(span));
            }
        }
    }
}
