using System.Buffers;
using System.Text;

namespace Gatehouse.Http1.Tests.Parser;

/// <summary>
/// A connection's parser refills one header list for every keep-alive request and takes the
/// previous request's strings for fields whose bytes repeat (issue 9). Nothing of one request may
/// show in the next: not a field it lacks, not a value that changed, not a count.
/// </summary>
public sealed class HeaderReuseTests
{
    private static Request ParseNext(RequestHeadParser parser, string head)
    {
        parser.Reset();
        var reader = new SequenceReader<byte>(new ReadOnlySequence<byte>(Encoding.Latin1.GetBytes(head)));
        Assert.True(parser.TryParse(ref reader, out var request));
        Assert.True(reader.End);
        return request!;
    }

    private static string[] Lines(Request request) => [.. request.Headers.Select(f => $"{f.Name}: {f.Value}")];

    [Fact]
    public void FieldOfTheFirstRequestIsAbsentFromASecondThatLacksIt()
    {
        var parser = new RequestHeadParser(new Http1Limits());
        ParseNext(parser, "GET /a HTTP/1.1\r\nHost: h\r\nX-Secret: one\r\nAccept: */*\r\nCookie: c=1\r\n\r\n");
        var second = ParseNext(parser, "GET /b HTTP/1.1\r\nHost: h\r\nAccept: */*\r\n\r\n");

        Assert.Equal(["Host: h", "Accept: */*"], Lines(second));
        Assert.Null(second.Headers["X-Secret"]);
        Assert.Null(second.Headers["Cookie"]);
        Assert.Equal(2, second.Headers.Count);
        Assert.Throws<ArgumentOutOfRangeException>(() => second.Headers[2]);
    }

    [Fact]
    public void RepeatedFieldsTakeThePreviousStringsAndChangedOnesAreNew()
    {
        var parser = new RequestHeadParser(new Http1Limits());
        var first = ParseNext(parser, "GET /a HTTP/1.1\r\nHost: h\r\nUser-Agent: probe/1\r\nX-Id: 1\r\n\r\n");
        var agent = first.Headers["User-Agent"];
        var second = ParseNext(parser, "GET /b HTTP/1.1\r\nHost: h\r\nUser-Agent: probe/1\r\nX-Id: 2\r\n\r\n");

        Assert.Same(agent, second.Headers["User-Agent"]);
        Assert.Equal("2", second.Headers["X-Id"]);
        Assert.Equal(["Host: h", "User-Agent: probe/1", "X-Id: 2"], Lines(second));
    }

    [Fact]
    public void SameValueUnderAnotherNameIsNotTakenForTheOldField()
    {
        var parser = new RequestHeadParser(new Http1Limits());
        ParseNext(parser, "GET /a HTTP/1.1\r\nHost: h\r\nX-A: v\r\n\r\n");
        var second = ParseNext(parser, "GET /b HTTP/1.1\r\nHost: h\r\nX-B: v\r\n\r\n");

        Assert.Equal(["Host: h", "X-B: v"], Lines(second));
        Assert.Null(second.Headers["X-A"]);
    }

    [Fact]
    public void RequestAfterALongerAndAShorterOneSeesOnlyItsOwnFields()
    {
        var parser = new RequestHeadParser(new Http1Limits());
        ParseNext(parser, "GET /a HTTP/1.1\r\nHost: h\r\nX-1: a\r\nX-2: b\r\nX-3: c\r\n\r\n");
        ParseNext(parser, "GET /b HTTP/1.1\r\nHost: h\r\n\r\n");
        var third = ParseNext(parser, "GET /c HTTP/1.1\r\nHost: h\r\nX-1: a\r\n\r\n");

        Assert.Equal(["Host: h", "X-1: a"], Lines(third));
    }

    [Fact]
    public void NonAsciiValueIsDecodedAsLatin1AgainRatherThanTaken()
    {
        var parser = new RequestHeadParser(new Http1Limits());
        ParseNext(parser, "GET /a HTTP/1.1\r\nHost: h\r\nX-Name: caf\u00e9\r\n\r\n");
        var second = ParseNext(parser, "GET /b HTTP/1.1\r\nHost: h\r\nX-Name: caf\u00e9\r\n\r\n");

        Assert.Equal("caf\u00e9", second.Headers["X-Name"]);
    }

    [Fact]
    public void SecondRequestIsTheSameObjectWithNoneOfTheFirstOnesFields()
    {
        var parser = new RequestHeadParser(new Http1Limits());
        var first = ParseNext(parser,
            "POST /up?x=1 HTTP/1.1\r\nHost: one\r\nContent-Length: 5\r\nExpect: 100-continue\r\nConnection: upgrade\r\nUpgrade: websocket\r\n\r\n");
        Assert.True(first.ExpectContinue);
        Assert.True(first.IsUpgrade);
        Assert.Equal(5, first.ContentLength);

        var second = ParseNext(parser, "HEAD /down HTTP/1.0\r\n\r\n");

        Assert.Same(first, second); // one per connection (issue 9)
        Assert.Equal(HttpMethods.Head, second.Method);
        Assert.True(second.IsHead);
        Assert.Equal(HttpVersion.Http10, second.Version);
        Assert.Equal("/down", second.Target.ToOriginForm());
        Assert.Equal(string.Empty, second.Host);
        Assert.Equal(BodyFraming.None, second.Framing);
        Assert.Equal(-1, second.ContentLength);
        Assert.False(second.HasBody);
        Assert.False(second.ExpectContinue);
        Assert.False(second.IsUpgrade);
        Assert.False(second.KeepAlive);
        Assert.Empty(second.Headers);
    }
}
