namespace Gatehouse.Files.Tests;

public sealed class RangeHeaderTests
{
    private const long Size = 1000;

    private static (RangeOutcome Outcome, ByteRange[] Ranges) Parse(string value, long size = Size, int maxRanges = 16)
    {
        var outcome = RangeHeader.Parse(value, size, maxRanges, out var ranges);
        return (outcome, ranges);
    }

    [Theory]
    [InlineData("bytes=0-99", 0, 100)]
    [InlineData("bytes=500-", 500, 500)]
    [InlineData("bytes=-500", 500, 500)]
    [InlineData("bytes=-5000", 0, 1000)]
    [InlineData("bytes=990-2000", 990, 10)]
    [InlineData("bytes=999-999", 999, 1)]
    [InlineData("BYTES=0-0", 0, 1)]
    [InlineData("bytes=0-99999999999999999999999", 0, 1000)]
    [InlineData(" bytes=10-19 ", 10, 10)]
    [InlineData("bytes=, 10-19 ,", 10, 10)]
    public void ParsesOneSatisfiableRange(string value, long start, long length)
    {
        var (outcome, ranges) = Parse(value);
        Assert.Equal(RangeOutcome.Satisfiable, outcome);
        Assert.Equal([new ByteRange(start, length)], ranges);
    }

    [Fact]
    public void ParsesSeveralRangesInTheOrderAsked()
    {
        var (outcome, ranges) = Parse("bytes=900-909, 0-9,\t-5");
        Assert.Equal(RangeOutcome.Satisfiable, outcome);
        Assert.Equal([new ByteRange(900, 10), new ByteRange(0, 10), new ByteRange(995, 5)], ranges);
    }

    [Fact]
    public void DropsUnsatisfiableRangesAmongSatisfiableOnes()
    {
        var (outcome, ranges) = Parse("bytes=5000-6000,0-9");
        Assert.Equal(RangeOutcome.Satisfiable, outcome);
        Assert.Equal([new ByteRange(0, 10)], ranges);
    }

    [Theory]
    [InlineData("bytes=1000-")]
    [InlineData("bytes=1000-2000")]
    [InlineData("bytes=-0")]
    [InlineData("bytes=99999999999999999999999-")]
    [InlineData("bytes=1000-1001,2000-")]
    public void ReportsNotSatisfiable(string value) => Assert.Equal(RangeOutcome.NotSatisfiable, Parse(value).Outcome);

    [Fact]
    public void NothingIsSatisfiableInAnEmptyFile()
    {
        Assert.Equal(RangeOutcome.NotSatisfiable, Parse("bytes=0-", size: 0).Outcome);
        Assert.Equal(RangeOutcome.NotSatisfiable, Parse("bytes=-10", size: 0).Outcome);
    }

    [Theory]
    [InlineData("")]
    [InlineData("bytes")]
    [InlineData("bytes=")]
    [InlineData("bytes=,")]
    [InlineData("items=0-9")]
    [InlineData("bytes=abc")]
    [InlineData("bytes=9-0")]
    [InlineData("bytes=0-9,x")]
    [InlineData("bytes=--9")]
    [InlineData("bytes=0 - 9")]
    [InlineData("bytes=+1-9")]
    [InlineData("bytes=0-9-")]
    [InlineData("bytes = 0-9")]
    [InlineData("bytes=-")]
    [InlineData("bytes=0x10-20")]
    public void IgnoresMalformedHeaders(string value) => Assert.Equal(RangeOutcome.Ignore, Parse(value).Outcome);

    [Fact]
    public void RefusesMoreRangesThanAllowed()
    {
        var many = "bytes=" + string.Join(',', Enumerable.Range(0, 17).Select(i => $"{i * 10}-{(i * 10) + 1}"));
        Assert.Equal(RangeOutcome.TooManyRanges, Parse(many).Outcome);
        Assert.Equal(RangeOutcome.Satisfiable, Parse(many, maxRanges: 17).Outcome);
    }

    [Fact]
    public void RefusesThousandsOfTinyRanges()
    {
        var many = "bytes=" + string.Join(',', Enumerable.Range(0, 5000).Select(i => "0-0"));
        var (outcome, ranges) = Parse(many);
        Assert.Equal(RangeOutcome.TooManyRanges, outcome);
        Assert.Empty(ranges);
    }

    [Theory]
    [InlineData("bytes=0-99,50-149")]
    [InlineData("bytes=0-,0-")]
    [InlineData("bytes=-500,0-")]
    [InlineData("bytes=10-10,10-10")]
    public void RefusesOverlappingRanges(string value) => Assert.Equal(RangeOutcome.Overlapping, Parse(value).Outcome);

    [Fact]
    public void AdjacentRangesDoNotOverlap() => Assert.Equal(RangeOutcome.Satisfiable, Parse("bytes=0-9,10-19").Outcome);

    [Fact]
    public void MultipartLengthMatchesWhatIsWritten()
    {
        var multipart = new MultipartByteRanges(Size);
        ByteRange[] ranges = [new(0, 10), new(500, 100), new(990, 10)];
        var buffer = new byte[256];
        long written = 0;
        for (var i = 0; i < ranges.Length; i++)
        {
            written += multipart.WritePartHead(buffer, ranges[i], first: i == 0) + ranges[i].Length;
        }

        written += multipart.WriteTrailer(buffer);
        Assert.Equal(written, multipart.BodyLength(ranges));
    }
}
