using System.Buffers;
using System.IO.Pipelines;
using Gatehouse.Http1.Tests.Support;

namespace Gatehouse.Http1.Tests.Bodies;

public sealed class ChunkedBodyTests
{
    private const string Next = "GET /next HTTP/1.1\r\nHost: h\r\n\r\n";

    public static TheoryData<string, string> GoodBodies => new()
    {
        { "5\r\nhello\r\n0\r\n\r\n", "hello" },
        { "3\r\nabc\r\n2\r\nde\r\n1\r\nf\r\n0\r\n\r\n", "abcdef" },
        { "A\r\n0123456789\r\na\r\nabcdefghij\r\n0\r\n\r\n", "0123456789abcdefghij" },
        { "0005\r\nhello\r\n000\r\n\r\n", "hello" },
        { "0\r\n\r\n", "" },
        { "5;name=value;flag\r\nhello\r\n0;last=\"yes\"\r\n\r\n", "hello" },
        { "5 ; a = b ;c\r\nhello\r\n0\r\n\r\n", "hello" },
        { "5;q=\"a \\\"quoted\\\" ;value\"\r\nhello\r\n0\r\n\r\n", "hello" },
        { "5\r\nhello\r\n0\r\nX-Checksum: abc\r\nX-Other:\tv w \r\n\r\n", "hello" },
        { "2\r\n\r\n\r\n0\r\n\r\n", "\r\n" },
    };

    public static TheoryData<string, RejectReason> BadBodies => new()
    {
        { "10000000000000000\r\n", RejectReason.InvalidChunk }, // 2^64: overflow
        { "FFFFFFFFFFFFFFFFF\r\n", RejectReason.InvalidChunk },
        { "5\r\nhelloX\r\n0\r\n\r\n", RejectReason.InvalidChunk }, // data longer than the size
        { "5\r\nhello0\r\n\r\n", RejectReason.InvalidChunk }, // missing CRLF after data
        { "5\r\nhello\n0\r\n\r\n", RejectReason.InvalidChunk }, // bare LF after data
        { "5\r\nhello\r0\r\n\r\n", RejectReason.InvalidChunk }, // bare CR after data
        { "5\nhello\r\n0\r\n\r\n", RejectReason.BareLineFeed },
        { "5\r\nhello\r\n0\n\r\n", RejectReason.BareLineFeed },
        { "5\r\nhello\r\n0\r\n\n", RejectReason.BareLineFeed },
        { "\r\nhello\r\n0\r\n\r\n", RejectReason.InvalidChunk }, // empty size
        { "g\r\n", RejectReason.InvalidChunk },
        { "-5\r\n", RejectReason.InvalidChunk },
        { "+5\r\n", RejectReason.InvalidChunk },
        { "0x5\r\n", RejectReason.InvalidChunk },
        { " 5\r\n", RejectReason.InvalidChunk },
        { "5 \r\nhello\r\n0\r\n\r\n", RejectReason.InvalidChunk }, // trailing whitespace without an extension
        { "5\tx\r\n", RejectReason.InvalidChunk },
        { "5;\r\n", RejectReason.InvalidChunk },
        { "5;=x\r\n", RejectReason.InvalidChunk },
        { "5;a=\r\n", RejectReason.InvalidChunk },
        { "5;a=\"unbalanced\r\n", RejectReason.InvalidChunk },
        { "5;a=\"nul\0\"\r\n", RejectReason.InvalidChunk },
        { "5;a=b c\r\n", RejectReason.InvalidChunk },
        { "5\r\r\nhello\r\n0\r\n\r\n", RejectReason.InvalidChunk },
        { "5\0\r\nhello\r\n0\r\n\r\n", RejectReason.InvalidChunk },
        { "0\r\nBad Trailer: x\r\n\r\n", RejectReason.InvalidHeader },
        { "0\r\nX-A: nul\0\r\n\r\n", RejectReason.InvalidHeader },
        { "0\r\nX-A: a\r\n folded\r\n\r\n", RejectReason.ObsoleteLineFolding },
        { "0\r\nX-A : a\r\n\r\n", RejectReason.InvalidHeader },
    };

    [Theory]
    [MemberData(nameof(GoodBodies))]
    public async Task DecodesGoodBodiesAtEverySplitPointAndLeavesTheNextRequest(string wire, string expected)
    {
        var bytes = Bytes.Of(wire + Next);
        foreach (var bufferSize in new[] { 1, 3, 4096 })
        {
            for (var split = 0; split <= bytes.Length; split++)
            {
                var (decoded, rest, error) = await DecodeAsync(bytes, split, bufferSize);
                Assert.Null(error);
                Assert.Equal(expected, decoded);
                Assert.Equal(Next, rest);
            }
        }
    }

    [Theory]
    [MemberData(nameof(BadBodies))]
    public async Task RejectsMalformedBodiesAtEverySplitPoint(string wire, RejectReason reason)
    {
        var bytes = Bytes.Of(wire);
        for (var split = 0; split <= bytes.Length; split++)
        {
            var (_, _, error) = await DecodeAsync(bytes, split, 4096);
            Assert.NotNull(error);
            Assert.Equal(reason, error.Reason);
        }
    }

    [Theory]
    [InlineData("5\r\nhel")]
    [InlineData("5\r\nhello")]
    [InlineData("5\r\nhello\r")]
    [InlineData("5")]
    [InlineData("5\r")]
    [InlineData("5;ext")]
    [InlineData("5\r\nhello\r\n0\r\n")]
    [InlineData("5\r\nhello\r\n0\r\nX-A: b\r\n")]
    [InlineData("5\r\nhello\r\n0\r\n\r")]
    public async Task RejectsAnEndOfInputInsideTheBody(string wire)
    {
        var (_, _, error) = await DecodeAsync(Bytes.Of(wire), wire.Length, 4096);
        Assert.NotNull(error);
        Assert.Equal(RejectReason.UnexpectedEndOfBody, error.Reason);
    }

    [Theory]
    [InlineData("5", "\r\nhello\r\n0\r\n\r\n")]
    [InlineData("5\r", "\nhello\r\n0\r\n\r\n")]
    [InlineData("5;a=b\r", "\nhello\r\n0\r\n\r\n")]
    [InlineData("5\r\nhello\r", "\n0\r\n\r\n")]
    [InlineData("5\r\nhello\r\n0\r\nX-A", ": b\r\n\r\n")]
    [InlineData("5\r\nhello\r\n0\r\n\r", "\n")]
    public async Task WaitsWithoutSpinningForTheRestOfALine(string first, string rest)
    {
        var pipe = new Pipe();
        var counting = new CountingPipeReader(pipe.Reader);
        using var input = new ConnectionInput(counting);
        var body = new ChunkedBody(input, TimeSpan.FromSeconds(5), 8192, long.MaxValue, null);
        await pipe.Writer.WriteAsync(Bytes.Of(first));
        var reading = Task.Run(() => ReadAllAsync(body, 4096));
        await Task.Delay(150);
        Assert.False(reading.IsCompleted, reading.Exception?.ToString());
        Assert.True(counting.Reads <= 3, $"{counting.Reads} reads while waiting for one line");
        await pipe.Writer.WriteAsync(Bytes.Of(rest));
        Assert.Equal("hello", await reading.WaitAsync(TimeSpan.FromSeconds(5)));
    }

    [Fact]
    public async Task RefusesBodiesOverTheLimit()
    {
        var (_, _, error) = await DecodeAsync(Bytes.Of("6\r\nhello!\r\n0\r\n\r\n"), 0, 4096, maxBodyBytes: 5);
        Assert.Equal(RejectReason.BodyTooLarge, error?.Reason);
        (_, _, error) = await DecodeAsync(Bytes.Of("3\r\nhel\r\n3\r\nlo!\r\n0\r\n\r\n"), 0, 4096, maxBodyBytes: 5);
        Assert.Equal(RejectReason.BodyTooLarge, error?.Reason);
    }

    [Fact]
    public async Task RefusesChunkExtensionsOverTheOverheadBudget()
    {
        var wire = "5;" + new string('x', 200) + "\r\nhello\r\n0\r\n\r\n";
        var (_, _, error) = await DecodeAsync(Bytes.Of(wire), 0, 4096, maxOverhead: 100);
        Assert.Equal(RejectReason.ChunkOverheadTooLarge, error?.Reason);
        (_, _, error) = await DecodeAsync(Bytes.Of(wire[..150]), 150, 4096, maxOverhead: 100, complete: false);
        Assert.Equal(RejectReason.ChunkOverheadTooLarge, error?.Reason);
    }

    [Fact]
    public async Task RefusesTrailersOverTheOverheadBudget()
    {
        var wire = "0\r\n" + string.Concat(Enumerable.Repeat("X-A: " + new string('v', 30) + "\r\n", 5)) + "\r\n";
        var (_, _, error) = await DecodeAsync(Bytes.Of(wire), 0, 4096, maxOverhead: 100);
        Assert.Equal(RejectReason.ChunkOverheadTooLarge, error?.Reason);
    }

    [Fact]
    public async Task AnswersAStalledBodyWithBodyTimeout()
    {
        var pipe = new Pipe();
        using var input = new ConnectionInput(pipe.Reader);
        var body = new ChunkedBody(input, TimeSpan.FromMilliseconds(100), 8192, long.MaxValue, null);
        await pipe.Writer.WriteAsync(Bytes.Of("5\r\nhel"));
        var buffer = new byte[16];
        Assert.Equal(3, await body.ReadAsync(buffer));
        var error = await Assert.ThrowsAsync<RequestRejectedException>(async () => await body.ReadAsync(buffer));
        Assert.Equal(RejectReason.BodyTimeout, error.Reason);
        Assert.Equal(408, error.StatusCode);
    }

    [Fact]
    public async Task ParsesChunkSizesUpToTheLargestLong()
    {
        Assert.Equal(long.MaxValue, ChunkedBody.ParseChunkSizeLine("7FFFFFFFFFFFFFFF"u8));
        Assert.Equal(255, ChunkedBody.ParseChunkSizeLine("00000000000000000000ff"u8));
        Assert.Throws<RequestRejectedException>(() => ChunkedBody.ParseChunkSizeLine("8000000000000000"u8));
        await Task.CompletedTask;
    }

    [Fact]
    public async Task SendsTheContinueCallbackOnlyOnTheFirstRead()
    {
        var pipe = new Pipe();
        using var input = new ConnectionInput(pipe.Reader);
        var calls = 0;
        var body = new ChunkedBody(input, TimeSpan.FromSeconds(5), 8192, long.MaxValue, () =>
        {
            calls++;
            return ValueTask.CompletedTask;
        });
        Assert.True(body.ContinuePending);
        await pipe.Writer.WriteAsync(Bytes.Of("3\r\nabc\r\n3\r\ndef\r\n0\r\n\r\n"));
        Assert.Equal("abcdef", await ReadAllAsync(body, 2));
        Assert.Equal(1, calls);
        Assert.False(body.ContinuePending);
    }

    /// <summary>
    /// Feeds <paramref name="bytes"/>[..split] first; the rest goes in only once the body is waiting
    /// for more (its ReadAsync did not complete synchronously), so every split is really exercised.
    /// </summary>
    private static Task<(string Decoded, string Remainder, RequestRejectedException? Error)> DecodeAsync(
        byte[] bytes, int split, int bufferSize, long maxBodyBytes = long.MaxValue, int maxOverhead = 8192, bool complete = true) =>
        Task.Run(async () =>
        {
            // Tiny segments, so reads across segment seams happen too.
            var pipe = new Pipe(new PipeOptions(minimumSegmentSize: 16, useSynchronizationContext: false));
            var counting = new CountingPipeReader(pipe.Reader);
            using var input = new ConnectionInput(counting);
            var body = new ChunkedBody(input, TimeSpan.FromSeconds(5), maxOverhead, maxBodyBytes, null);
            await pipe.Writer.WriteAsync(bytes.AsMemory(0, split));
            var secondWritten = false;
            async Task WriteSecondAsync()
            {
                secondWritten = true;
                await pipe.Writer.WriteAsync(bytes.AsMemory(split));
                if (complete)
                {
                    await pipe.Writer.CompleteAsync();
                }
            }

            var decoded = new List<byte>();
            var buffer = new byte[bufferSize];
            try
            {
                while (true)
                {
                    var pending = body.ReadAsync(buffer);
                    if (!pending.IsCompleted && !secondWritten)
                    {
                        await WriteSecondAsync();
                    }

                    var count = await pending;
                    if (count == 0)
                    {
                        break;
                    }

                    decoded.AddRange(buffer.AsSpan(0, count));
                }
            }
            catch (RequestRejectedException error)
            {
                return (Bytes.Show([.. decoded]), string.Empty, error);
            }

            Assert.True(body.IsComplete);
            Assert.Equal(0, await body.ReadAsync(buffer));
            if (!secondWritten)
            {
                await WriteSecondAsync();
            }

            // What is left in the pipe belongs to the next request and must be untouched.
            var rest = new List<byte>();
            while (true)
            {
                var result = await pipe.Reader.ReadAsync();
                rest.AddRange(result.Buffer.ToArray());
                pipe.Reader.AdvanceTo(result.Buffer.End);
                if (result.IsCompleted)
                {
                    break;
                }
            }

            return (System.Text.Encoding.Latin1.GetString([.. decoded]), System.Text.Encoding.Latin1.GetString([.. rest]), (RequestRejectedException?)null);
        }).WaitAsync(TimeSpan.FromSeconds(10));

    private static async Task<string> ReadAllAsync(RequestBody body, int bufferSize)
    {
        var decoded = new List<byte>();
        var buffer = new byte[bufferSize];
        int count;
        while ((count = await body.ReadAsync(buffer)) > 0)
        {
            decoded.AddRange(buffer.AsSpan(0, count));
        }

        return System.Text.Encoding.Latin1.GetString([.. decoded]);
    }
}
