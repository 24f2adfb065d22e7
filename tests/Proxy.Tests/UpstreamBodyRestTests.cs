using System.Buffers;
using System.IO.Pipelines;
using System.Text;

namespace Gatehouse.Proxy.Tests;

/// <summary>
/// A small answer's body usually arrives with its head: the forward then takes it whole without a
/// read to wait for (issue 22). When the reader holds less, nothing may be taken, or lost: the
/// ordinary read finds every byte.
/// </summary>
public sealed class UpstreamBodyRestTests
{
    private static async Task<Pipe> PipeHoldingAsync(string bytes)
    {
        var pipe = new Pipe();
        await pipe.Writer.WriteAsync(Encoding.ASCII.GetBytes(bytes));
        return pipe;
    }

    [Fact]
    public async Task AWholeBodyIsTakenAtOnceAndWhatFollowsItStays()
    {
        var pipe = await PipeHoldingAsync("helloNEXT");
        var body = new ContentLengthUpstreamBody(pipe.Reader, 5);
        var destination = new byte[5];

        Assert.True(body.TryReadRest(destination));
        Assert.Equal("hello", Encoding.ASCII.GetString(destination));
        Assert.True(body.IsComplete);
        Assert.Equal(0, await body.ReadAsync(new byte[8], CancellationToken.None));
        Assert.True(pipe.Reader.TryRead(out var rest));
        Assert.Equal("NEXT", Encoding.ASCII.GetString(rest.Buffer.ToArray()));
    }

    [Fact]
    public async Task APartBodyIsLeftWholeForTheReadThatFollows()
    {
        var pipe = await PipeHoldingAsync("hel");
        var body = new ContentLengthUpstreamBody(pipe.Reader, 5);

        Assert.False(body.TryReadRest(new byte[5]));
        Assert.Equal(5, body.BytesOwed);

        var destination = new byte[5];
        var read = await body.ReadAsync(destination, CancellationToken.None);
        Assert.Equal("hel", Encoding.ASCII.GetString(destination, 0, read));
        await pipe.Writer.WriteAsync("lo"u8.ToArray());
        read += await body.ReadAsync(destination.AsMemory(read), CancellationToken.None);
        Assert.Equal("hello", Encoding.ASCII.GetString(destination, 0, read));
        Assert.True(body.IsComplete);
    }

    [Fact]
    public async Task NothingIsTakenIntoTooSmallARoomOrFromAnEmptyReader()
    {
        var empty = new ContentLengthUpstreamBody(new Pipe().Reader, 5);
        Assert.False(empty.TryReadRest(new byte[5]));

        var pipe = await PipeHoldingAsync("hello");
        var body = new ContentLengthUpstreamBody(pipe.Reader, 5);
        Assert.False(body.TryReadRest(new byte[4]));
        var destination = new byte[5];
        Assert.Equal(5, await body.ReadAsync(destination, CancellationToken.None));
        Assert.Equal("hello", Encoding.ASCII.GetString(destination));
    }

    [Fact]
    public async Task ACancelledReadIsReportedAsTheReadWouldReportIt()
    {
        var pipe = await PipeHoldingAsync("hello");
        var body = new ContentLengthUpstreamBody(pipe.Reader, 5);
        pipe.Reader.CancelPendingRead();

        Assert.Throws<OperationCanceledException>(() => body.TryReadRest(new byte[5]));
        Assert.Equal(5, body.BytesOwed);
    }

    [Fact]
    public async Task OtherFramingsAlwaysRead()
    {
        var pipe = await PipeHoldingAsync("5\r\nhello\r\n0\r\n\r\n");
        var body = UpstreamBody.Create(UpstreamFraming.Chunked, pipe.Reader, -1);

        Assert.False(body.TryReadRest(new byte[64]));
        var destination = new byte[64];
        Assert.Equal(5, await body.ReadAsync(destination, CancellationToken.None));
    }
}
