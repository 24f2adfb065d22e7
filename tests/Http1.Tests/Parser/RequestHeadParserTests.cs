using System.Buffers;
using System.Text;
using Gatehouse.Http1.Tests.Support;

namespace Gatehouse.Http1.Tests.Parser;

public sealed class RequestHeadParserTests
{
    public static TheoryData<string> GoodHeads => GoodRequests.All;

    [Theory]
    [MemberData(nameof(GoodHeads))]
    public void ParsesGoodRequestsTheSameAtEveryTwoSegmentSplit(string raw)
    {
        var bytes = Bytes.Of(raw);
        var expected = ParsedRequestText.Of(ParserDriver.Whole(bytes));
        for (var at = 0; at <= bytes.Length; at++)
        {
            var request = ParserDriver.ParseSequence(BufferSegment.Split(bytes, at), null, out var consumed);
            Assert.NotNull(request);
            Assert.Equal(expected, ParsedRequestText.Of(request));
            Assert.Equal(bytes.Length, consumed);
        }
    }

    [Theory]
    [MemberData(nameof(GoodHeads))]
    public void ParsesGoodRequestsTheSameFedByteByByte(string raw)
    {
        var bytes = Bytes.Of(raw);
        var expected = ParsedRequestText.Of(ParserDriver.Whole(bytes));
        var request = ParserDriver.ByteByByte(bytes, null, out var consumed);
        Assert.Equal(expected, ParsedRequestText.Of(request));
        Assert.Equal(bytes.Length, consumed);
    }

    [Theory]
    [MemberData(nameof(GoodHeads))]
    public void WaitsForMoreBytesAtEveryPrefixOfAGoodRequest(string raw)
    {
        var bytes = Bytes.Of(raw);
        for (var length = 0; length < bytes.Length; length++)
        {
            Assert.Null(ParserDriver.ParseSequence(new ReadOnlySequence<byte>(bytes, 0, length), null, out _));
        }
    }

    [Theory]
    [MemberData(nameof(GoodHeads))]
    public void RejectsNulBareCrOrBareLfAtEveryPositionOfAGoodRequest(string raw)
    {
        var good = Bytes.Of(raw);
        foreach (var bad in new[] { (byte)0, (byte)'\r', (byte)'\n' })
        {
            for (var i = 0; i < good.Length; i++)
            {
                if (good[i] == bad)
                {
                    continue; // no change
                }

                var bytes = (byte[])good.Clone();
                bytes[i] = bad;
                Request? request;
                try
                {
                    request = ParserDriver.ParseSequence(new ReadOnlySequence<byte>(bytes), null, out _);
                }
                catch (RequestRejectedException)
                {
                    continue;
                }

                // The one harmless place: the final LF of the head. Replacing it leaves "...\r\n\r" + bad,
                // which is an unfinished head: the parser waits (and the header timeout or EOF ends it),
                // it never accepts. Everywhere else the byte lands inside a line or breaks a CRLF.
                Assert.True(
                    request is null && i == good.Length - 1,
                    $"byte 0x{bad:X2} at {i} was accepted: {Bytes.Show(bytes)}");
            }
        }
    }

    [Fact]
    public void ParsesRequestLineHeadersAndFraming()
    {
        var request = ParserDriver.Whole(Bytes.Of(GoodRequests.PostWithLength));
        Assert.Same(HttpMethods.Post, request.Method);
        Assert.Equal(HttpVersion.Http11, request.Version);
        Assert.Equal(["upload", "file"], request.Target.Segments);
        Assert.Equal("[::1]:443", request.Host);
        Assert.Equal(BodyFraming.ContentLength, request.Framing);
        Assert.Equal(5, request.ContentLength);
        Assert.True(request.KeepAlive);
        Assert.Equal("text/plain", request.Headers["content-type"]);
    }

    [Fact]
    public void StopsExactlyAtTheEndOfTheHeadLeavingTheBody()
    {
        var head = Bytes.Of(GoodRequests.PostWithLength);
        var bytes = head.Concat("hello"u8.ToArray()).ToArray();
        Assert.NotNull(ParserDriver.ParseSequence(new ReadOnlySequence<byte>(bytes), null, out var consumed));
        Assert.Equal(head.Length, consumed);
        ParserDriver.ByteByByte(bytes, null, out consumed);
        Assert.Equal(head.Length, consumed);
    }

    [Fact]
    public void TrimsOptionalWhitespaceAroundFieldValues()
    {
        var request = ParserDriver.Whole(Bytes.Of("GET / HTTP/1.1\r\nHost:\t h \t\r\nX-A:  a b  \r\n\r\n"));
        Assert.Equal("h", request.Host);
        Assert.Equal("a b", request.Headers["X-A"]);
    }

    [Fact]
    public void KeepsObsTextInFieldValuesAsLatin1()
    {
        var request = ParserDriver.Whole(Bytes.Of("GET / HTTP/1.1\r\nHost: h\r\nX-Name: caf\u00e9\r\n\r\n"));
        Assert.Equal("caf\u00e9", request.Headers["x-name"]);
    }

    [Fact]
    public void SkipsOneEmptyLineBeforeTheRequestLine()
    {
        Assert.Equal(HttpMethods.Get, ParserDriver.Whole(Bytes.Of(GoodRequests.LeadingEmptyLine)).Method);
    }

    [Fact]
    public void AcceptsHttp10WithoutHostAndClosesByDefault()
    {
        var request = ParserDriver.Whole(Bytes.Of(GoodRequests.Http10));
        Assert.Equal(HttpVersion.Http10, request.Version);
        Assert.Equal(string.Empty, request.Host);
        Assert.False(request.KeepAlive);
    }

    [Fact]
    public void KeepsHttp10AliveOnlyWhenAsked()
    {
        Assert.True(ParserDriver.Whole(Bytes.Of("GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n")).KeepAlive);
    }

    [Fact]
    public void HonoursConnectionCloseInHttp11()
    {
        Assert.False(ParserDriver.Whole(Bytes.Of("GET / HTTP/1.1\r\nHost: h\r\nConnection: foo, close\r\n\r\n")).KeepAlive);
    }

    [Fact]
    public void AcceptsASingleChunkedTransferCoding()
    {
        Assert.Equal(BodyFraming.Chunked, ParserDriver.Whole(Bytes.Of("POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: Chunked\r\n\r\n")).Framing);
        Assert.Equal(BodyFraming.Chunked, ParserDriver.Whole(Bytes.Of("POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: , chunked\r\n\r\n")).Framing);
    }

    [Fact]
    public void AcceptsContentLengthWithLeadingZeros()
    {
        Assert.Equal(7, ParserDriver.Whole(Bytes.Of("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 007\r\n\r\n")).ContentLength);
    }

    [Fact]
    public void AcceptsExpect100ContinueCaseInsensitively()
    {
        Assert.True(ParserDriver.Whole(Bytes.Of("PUT / HTTP/1.1\r\nHost: h\r\nExpect: 100-Continue\r\nContent-Length: 1\r\n\r\n")).ExpectContinue);
    }

    [Fact]
    public void AcceptsAbsoluteFormHttpAndLetsItsAuthorityStandForHost()
    {
        var request = ParserDriver.Whole(Bytes.Of("GET http://Other.example:81/p?q HTTP/1.1\r\nHost: example.com\r\n\r\n"));
        Assert.Equal("Other.example:81", request.Host);
        Assert.Equal("/p?q", request.Target.ToOriginForm());
    }

    [Fact]
    public void AcceptsAbsoluteFormHttpsWithoutPath()
    {
        var request = ParserDriver.Whole(Bytes.Of("GET https://example.com HTTP/1.1\r\nHost: example.com\r\n\r\n"));
        Assert.Equal("/", request.Target.ToOriginForm());
        Assert.Equal("example.com", request.Target.Authority);
    }

    [Fact]
    public void AcceptsAsteriskForOptions()
    {
        Assert.True(ParserDriver.Whole(Bytes.Of(GoodRequests.OptionsAsterisk)).Target.IsAsterisk);
    }

    [Fact]
    public void AcceptsUnknownButWellFormedMethods()
    {
        Assert.Equal("PROPFIND", ParserDriver.Whole(Bytes.Of("PROPFIND / HTTP/1.1\r\nHost: h\r\n\r\n")).Method);
    }

    [Fact]
    public void ParsesBackToBackRequestsAfterReset()
    {
        var bytes = Bytes.Of(GoodRequests.Simple + GoodRequests.WithQueryAndHeaders);
        var parser = new RequestHeadParser(new Http1Limits());
        var reader = new SequenceReader<byte>(new ReadOnlySequence<byte>(bytes));
        Assert.True(parser.TryParse(ref reader, out var first));
        // Read before the next parse: the parser refills the same request object (issue 9).
        Assert.Equal("/", first!.Target.ToOriginForm());
        parser.Reset();
        Assert.True(parser.TryParse(ref reader, out var second));
        Assert.Equal("gate.local:8443", second!.Host);
        Assert.True(reader.End);
    }

    [Fact]
    public void CountsAPartialRequestLineAsAStartedRequest()
    {
        var parser = new RequestHeadParser(new Http1Limits());
        var reader = new SequenceReader<byte>(new ReadOnlySequence<byte>("GET /pa"u8.ToArray()));
        Assert.False(parser.HasStarted);
        Assert.False(parser.TryParse(ref reader, out _));
        Assert.True(parser.HasStarted); // so the header timeout answers 408 rather than closing silently
        parser.Reset();
        Assert.False(parser.HasStarted);
    }

    // ---- framing: Content-Length and Transfer-Encoding (RFC 9112 §6) ----

    [Fact]
    public void RejectsContentLengthWithTransferEncoding() =>
        AssertRejected("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n", RejectReason.ConflictingFraming);

    [Fact]
    public void RejectsTransferEncodingBeforeContentLength() =>
        AssertRejected("POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\nContent-Length: 5\r\n\r\n", RejectReason.ConflictingFraming);

    [Fact]
    public void RejectsDuplicateContentLengthWithDifferentValues() =>
        AssertRejected("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\n", RejectReason.InvalidContentLength);

    [Fact]
    public void RejectsDuplicateContentLengthEvenWhenIdentical() =>
        AssertRejected("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\nContent-Length: 5\r\n\r\n", RejectReason.InvalidContentLength); // stricter than RFC 9110 §8.6's MAY

    [Theory]
    [InlineData("5, 5")]
    [InlineData("-1")]
    [InlineData("+5")]
    [InlineData("0x10")]
    [InlineData("5 5")]
    [InlineData("")]
    [InlineData("1e3")]
    [InlineData("99999999999999999999")]
    [InlineData("9223372036854775808")]
    public void RejectsInvalidContentLength(string value) =>
        AssertRejected($"POST / HTTP/1.1\r\nHost: h\r\nContent-Length: {value}\r\n\r\n", RejectReason.InvalidContentLength);

    [Fact]
    public void RejectsContentLengthAboveTheBodyLimitWith413()
    {
        var limits = new Http1Limits { MaxRequestBodyBytes = 10 };
        var rejected = ParserDriver.Rejects("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 11\r\n\r\n", limits);
        Assert.Equal(413, rejected.StatusCode);
    }

    [Theory]
    [InlineData("gzip")]
    [InlineData("gzip, chunked")]
    [InlineData("chunked, gzip")]
    [InlineData("chunked, chunked")]
    [InlineData("identity")]
    [InlineData("chunked;q=1")]
    [InlineData("\"chunked\"")]
    [InlineData("xchunked")]
    [InlineData("")]
    public void RejectsTransferCodingsOtherThanASingleChunked(string value) =>
        AssertRejected($"POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: {value}\r\n\r\n", RejectReason.UnsupportedTransferEncoding);

    [Fact]
    public void RejectsChunkedNamedTwiceInTwoTransferEncodingFields() =>
        AssertRejected("POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n", RejectReason.UnsupportedTransferEncoding);

    [Fact]
    public void RejectsTransferEncodingInHttp10() =>
        AssertRejected("POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n", RejectReason.UnsupportedTransferEncoding);

    // ---- field syntax (RFC 9112 §5, §2.2) ----

    [Fact]
    public void RejectsObsoleteLineFolding() =>
        AssertRejected("GET / HTTP/1.1\r\nHost: h\r\nX-A: one\r\n two\r\n\r\n", RejectReason.ObsoleteLineFolding);

    [Fact]
    public void RejectsObsoleteLineFoldingWithTab() =>
        AssertRejected("GET / HTTP/1.1\r\nHost: h\r\nX-A: one\r\n\ttwo\r\n\r\n", RejectReason.ObsoleteLineFolding);

    [Fact]
    public void RejectsWhitespaceBeforeTheFirstHeaderField() =>
        AssertRejected("GET / HTTP/1.1\r\n Host: h\r\n\r\n", RejectReason.ObsoleteLineFolding);

    [Fact]
    public void RejectsSpaceBetweenFieldNameAndColon() =>
        AssertRejected("POST / HTTP/1.1\r\nHost: h\r\nContent-Length : 5\r\n\r\n", RejectReason.InvalidHeader);

    [Fact]
    public void RejectsTabBetweenFieldNameAndColon() =>
        AssertRejected("GET / HTTP/1.1\r\nHost\t: h\r\n\r\n", RejectReason.InvalidHeader);

    [Fact]
    public void RejectsBareCrInsideAFieldValue() =>
        AssertRejected("GET / HTTP/1.1\r\nHost: h\r\nX-A: a\rb\r\n\r\n", RejectReason.InvalidHeader);

    [Fact]
    public void RejectsBareCrInsideTheRequestLine() =>
        AssertRejected("GET /\r HTTP/1.1\r\nHost: h\r\n\r\n", RejectReason.InvalidTarget);

    [Fact]
    public void RejectsBareCrAsALineEnding() =>
        AssertRejected("GET / HTTP/1.1\r\nHost: h\rX-A: b\r\n\r\n", RejectReason.InvalidHeader);

    [Fact]
    public void RejectsBareLfAfterTheRequestLine() =>
        AssertRejected("GET / HTTP/1.1\nHost: h\r\n\r\n", RejectReason.BareLineFeed);

    [Fact]
    public void RejectsBareLfAfterAHeaderField() =>
        AssertRejected("GET / HTTP/1.1\r\nHost: h\nX-A: b\r\n\r\n", RejectReason.BareLineFeed);

    [Fact]
    public void RejectsBareLfEndingTheHeaderBlock() =>
        AssertRejected("GET / HTTP/1.1\r\nHost: h\r\n\n", RejectReason.BareLineFeed);

    [Fact]
    public void RejectsBareLfEverywhere() =>
        AssertRejected("GET / HTTP/1.1\nHost: h\n\n", RejectReason.BareLineFeed);

    [Fact]
    public void RejectsBareLfBeforeTheRequestLine() =>
        AssertRejected("\nGET / HTTP/1.1\r\nHost: h\r\n\r\n", RejectReason.BareLineFeed);

    [Theory]
    [InlineData('\0')]
    [InlineData('\u0001')]
    [InlineData('\u000b')]
    [InlineData('\u000c')]
    [InlineData('\u001f')]
    [InlineData('\u007f')]
    public void RejectsNulAndControlBytesInFieldValues(char control) =>
        AssertRejected($"GET / HTTP/1.1\r\nHost: h\r\nX-A: a{control}b\r\n\r\n", RejectReason.InvalidHeader);

    [Theory]
    [InlineData('\0')]
    [InlineData('\u0001')]
    [InlineData('\u007f')]
    public void RejectsNulAndControlBytesInFieldNames(char control) =>
        AssertRejected($"GET / HTTP/1.1\r\nHost: h\r\nX{control}A: b\r\n\r\n", RejectReason.InvalidHeader);

    [Theory]
    [InlineData("X@A")]
    [InlineData("X(A)")]
    [InlineData("X/A")]
    [InlineData("X\"A")]
    [InlineData("X\u00e9A")]
    public void RejectsInvalidTokensInFieldNames(string name) =>
        AssertRejected($"GET / HTTP/1.1\r\nHost: h\r\n{name}: b\r\n\r\n", RejectReason.InvalidHeader);

    [Fact]
    public void RejectsAnEmptyFieldName() =>
        AssertRejected("GET / HTTP/1.1\r\nHost: h\r\n: b\r\n\r\n", RejectReason.InvalidHeader);

    [Fact]
    public void RejectsAFieldLineWithoutColon() =>
        AssertRejected("GET / HTTP/1.1\r\nHost: h\r\nX-A b\r\n\r\n", RejectReason.InvalidHeader);

    // ---- request line (RFC 9112 §3) ----

    [Theory]
    [InlineData("GE(T")]
    [InlineData("GET\u0001")]
    [InlineData("G\u00c9T")]
    [InlineData("GE@T")]
    [InlineData("[GET]")]
    public void RejectsInvalidTokensInTheMethod(string method) =>
        AssertRejected($"{method} / HTTP/1.1\r\nHost: h\r\n\r\n", RejectReason.InvalidRequestLine);

    [Theory]
    [InlineData("GET  / HTTP/1.1")]
    [InlineData(" GET / HTTP/1.1")]
    [InlineData("GET / HTTP/1.1 ")]
    [InlineData("GET /  HTTP/1.1")]
    [InlineData("GET\t/ HTTP/1.1")]
    [InlineData("GET /\tHTTP/1.1")]
    [InlineData("GET /")]
    [InlineData("GET / http/1.1")]
    [InlineData("GET / HTTP/1.1.1")]
    [InlineData("GET / HTTP/11")]
    [InlineData("GET / HTTP/1.x")]
    [InlineData("GET / HTTP/10.0")]
    [InlineData("GET / HTTP/1")]
    [InlineData("GET / ICE/1.0")]
    [InlineData("GET / RTSP/1.0")]
    public void RejectsMalformedRequestLinesWith400(string line)
    {
        var rejected = ParserDriver.Rejects(line + "\r\nHost: h\r\n\r\n");
        Assert.Equal(400, rejected.StatusCode);
    }

    [Theory]
    [InlineData("HTTP/1.2")] // Deliberate: the corpus calls HTTP/1.2 a SHOULD-ok (serve it as 1.1); we answer 505.
    [InlineData("HTTP/2.0")]
    [InlineData("HTTP/0.9")]
    [InlineData("HTTP/3.0")]
    public void AnswersWellFormedButUnservedVersionsWith505(string version)
    {
        var rejected = AssertRejected($"GET / {version}\r\nHost: h\r\n\r\n", RejectReason.UnsupportedVersion);
        Assert.Equal(505, rejected.StatusCode);
    }

    [Fact]
    public void RejectsConnect() =>
        AssertRejected("CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n", RejectReason.InvalidRequestLine);

    [Theory]
    [InlineData("GET")]
    [InlineData("POST")]
    [InlineData("HEAD")]
    public void RejectsAsteriskTargetForMethodsOtherThanOptions(string method) =>
        AssertRejected($"{method} * HTTP/1.1\r\nHost: h\r\n\r\n", RejectReason.InvalidTarget);

    [Theory]
    [InlineData("ftp://example.com/x")]
    [InlineData("http://user@example.com/x")]
    [InlineData("http:///x")]
    [InlineData("example.com:80")]
    [InlineData("//example.com/x")]
    [InlineData("/a/../b")]
    [InlineData("/a%00b")]
    public void RejectsNonCanonicalTargets(string target) =>
        AssertRejected($"GET {target} HTTP/1.1\r\nHost: h\r\n\r\n", RejectReason.InvalidTarget);

    // ---- Host (RFC 9112 §3.2) ----

    [Fact]
    public void RejectsMissingHostInHttp11() =>
        AssertRejected("GET / HTTP/1.1\r\nAccept: */*\r\n\r\n", RejectReason.MissingHost);

    [Fact]
    public void RejectsMissingHostInHttp11EvenWithAbsoluteForm() =>
        AssertRejected("GET http://example.com/ HTTP/1.1\r\n\r\n", RejectReason.MissingHost);

    [Fact]
    public void RejectsDuplicateHost() =>
        AssertRejected("GET / HTTP/1.1\r\nHost: a\r\nHost: a\r\n\r\n", RejectReason.MissingHost);

    [Fact]
    public void RejectsDuplicateHostInHttp10() =>
        AssertRejected("GET / HTTP/1.0\r\nHost: a\r\nHost: b\r\n\r\n", RejectReason.MissingHost);

    [Theory]
    [InlineData("")]
    [InlineData("a b")]
    [InlineData("user@host")]
    [InlineData("host/path")]
    [InlineData("a, b")]
    [InlineData("host:")]
    [InlineData("host:80:81")]
    [InlineData("host:8o")]
    [InlineData("host:123456")]
    [InlineData(":80")]
    [InlineData("[::1")]
    [InlineData("::1")]
    [InlineData("[::1]x")]
    [InlineData("h\u00e9st")]
    public void RejectsMalformedHost(string host) =>
        AssertRejected($"GET / HTTP/1.1\r\nHost: {host}\r\n\r\n", RejectReason.InvalidHost);

    [Theory]
    [InlineData("example.com")]
    [InlineData("example.com:8443")]
    [InlineData("127.0.0.1")]
    [InlineData("[::1]")]
    [InlineData("[fe80::1%25eth0]:443")]
    public void AcceptsWellFormedHosts(string host) =>
        Assert.Equal(host, ParserDriver.Whole(Bytes.Of($"GET / HTTP/1.1\r\nHost: {host}\r\n\r\n")).Host);

    // ---- Expect (RFC 9110 §10.1.1) ----

    [Theory]
    [InlineData("x 100-continue")]
    [InlineData("100-continue, foo")]
    [InlineData("200-ok")]
    [InlineData("")]
    public void AnswersExpectationsOtherThan100ContinueWith417(string value)
    {
        var rejected = ParserDriver.Rejects($"PUT / HTTP/1.1\r\nHost: h\r\nExpect: {value}\r\nContent-Length: 1\r\n\r\n");
        Assert.Equal(417, rejected.StatusCode);
    }

    [Fact]
    public void AnswersTwoExpectFieldsWith417() =>
        AssertRejected("PUT / HTTP/1.1\r\nHost: h\r\nExpect: 100-continue\r\nExpect: 100-continue\r\n\r\n", RejectReason.ExpectationFailed);

    // ---- limits ----

    [Fact]
    public void AnswersAnOverlongRequestLineWith414()
    {
        var rejected = ParserDriver.Rejects("GET /" + new string('a', 8 * 1024) + " HTTP/1.1\r\nHost: h\r\n\r\n");
        Assert.Equal(414, rejected.StatusCode);
    }

    [Fact]
    public void AnswersAnOverlongRequestLineWith414BeforeItsEndArrives()
    {
        var bytes = Bytes.Of("GET /" + new string('a', 9 * 1024));
        var rejected = Assert.Throws<RequestRejectedException>(() => ParserDriver.ParseSequence(new ReadOnlySequence<byte>(bytes), null, out _));
        Assert.Equal(414, rejected.StatusCode);
    }

    [Fact]
    public void AcceptsARequestLineJustUnderTheLimit()
    {
        var line = "GET /" + new string('a', (8 * 1024) - 20) + " HTTP/1.1";
        Assert.True(line.Length < 8 * 1024);
        ParserDriver.Whole(Bytes.Of(line + "\r\nHost: h\r\n\r\n"));
    }

    [Fact]
    public void AnswersAHeaderBlockOver32KiBWith431()
    {
        var builder = new StringBuilder("GET / HTTP/1.1\r\nHost: h\r\n");
        for (var i = 0; i < 40; i++)
        {
            builder.Append(CultureInfoInvariant($"X-{i}: ")).Append('v', 1000).Append("\r\n");
        }

        var rejected = ParserDriver.Rejects(builder.Append("\r\n").ToString());
        Assert.Equal(431, rejected.StatusCode);
    }

    [Fact]
    public void AnswersOneHugeFieldWith431BeforeItsEndArrives()
    {
        var bytes = Bytes.Of("GET / HTTP/1.1\r\nHost: h\r\nX-A: " + new string('v', 33 * 1024));
        var rejected = Assert.Throws<RequestRejectedException>(() => ParserDriver.ParseSequence(new ReadOnlySequence<byte>(bytes), null, out _));
        Assert.Equal(431, rejected.StatusCode);
    }

    [Fact]
    public void AnswersMoreThan100FieldsWith431()
    {
        var rejected = ParserDriver.Rejects(HeadWithFields(101));
        Assert.Equal(RejectReason.TooManyHeaders, rejected.Reason);
        Assert.Equal(431, rejected.StatusCode);
    }

    [Fact]
    public void AcceptsExactly100Fields() =>
        Assert.Equal(100, ParserDriver.Whole(Bytes.Of(HeadWithFields(100))).Headers.Count);

    private static string HeadWithFields(int count)
    {
        var builder = new StringBuilder("GET / HTTP/1.1\r\nHost: h\r\n");
        for (var i = 1; i < count; i++)
        {
            builder.Append(CultureInfoInvariant($"X-{i}: v\r\n"));
        }

        return builder.Append("\r\n").ToString();
    }

    private static string CultureInfoInvariant(FormattableString text) => FormattableString.Invariant(text);

    private static RequestRejectedException AssertRejected(string raw, RejectReason reason)
    {
        var rejected = ParserDriver.Rejects(raw);
        Assert.Equal(reason, rejected.Reason);
        return rejected;
    }
}
