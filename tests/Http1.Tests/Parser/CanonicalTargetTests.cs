using System.Text;

namespace Gatehouse.Http1.Tests.Parser;

public sealed class CanonicalTargetTests
{
    private static CanonicalTarget Parse(string target) => CanonicalTarget.Parse(Encoding.Latin1.GetBytes(target));

    public static TheoryData<string, string> PathQuestions => new()
    {
        { "/", "/" },
        { "/", "" },
        { "/", "/a" },
        { "/_gatehouse/metrics", "/_gatehouse/metrics" },
        { "/_gatehouse/metrics?x=1", "/_gatehouse/metrics" },
        { "/_gatehouse/metrics/", "/_gatehouse/metrics" },
        { "/_gatehouse/metrics/", "/_gatehouse/metrics/" },
        { "/_gatehouse/metric", "/_gatehouse/metrics" },
        { "/_gatehouse/metricsx", "/_gatehouse/metrics" },
        { "/_gatehouse", "/_gatehouse/metrics" },
        { "/_gatehouse/metrics/x", "/_gatehouse/metrics" },
        { "/a%2Fb", "/a/b" },
        { "/a/b", "/a/b" },
        { "/caf%C3%A9", "/caf\u00e9" },
        { "*", "*" },
        { "*", "/" },
    };

    [Theory]
    [MemberData(nameof(PathQuestions))]
    public void PathEqualsAnswersAsComparingThePathStringWould(string raw, string path)
    {
        var target = Parse(raw);
        Assert.Equal(target.Path == path, target.PathEquals(path));
    }

    private static CanonicalTarget ParseAfter(CanonicalTarget previous, string target) =>
        CanonicalTarget.Parse(Encoding.Latin1.GetBytes(target), previous);

    [Fact]
    public void SameTargetAsThePreviousOneIsThePreviousObject()
    {
        var first = Parse("/api/doc.json?rev=1");
        Assert.Same(first, ParseAfter(first, "/api/doc.json?rev=1"));
    }

    [Theory]
    [InlineData("/api/doc.json?rev=2", "/api/doc.json?rev=2", new[] { true, true })]
    [InlineData("/api/other.json?rev=1", "/api/other.json?rev=1", new[] { true, false })]
    [InlineData("/api/doc.json/", "/api/doc.json/", new[] { true, true })]
    [InlineData("/api/doc.json", "/api/doc.json", new[] { true, true })]
    [InlineData("/api/doc.json/more", "/api/doc.json/more", new[] { true, true, false })]
    [InlineData("/api", "/api", new[] { true })]
    [InlineData("/ap%69/doc.json?rev=1", "/api/doc.json?rev=1", new[] { false, true })]
    [InlineData("/other/api", "/other/api", new[] { false, false })]
    public void DifferentTargetIsParsedAfreshTakingOnlyWhatRepeats(string next, string originForm, bool[] segmentTaken)
    {
        var first = Parse("/api/doc.json?rev=1");
        var second = ParseAfter(first, next);

        Assert.NotSame(first, second);
        Assert.Equal(originForm, second.ToOriginForm());
        Assert.Equal(Parse(next).Path, second.Path);
        Assert.Equal(Parse(next).Query, second.Query);
        Assert.Equal(Parse(next).HasTrailingSlash, second.HasTrailingSlash);
        for (var i = 0; i < segmentTaken.Length; i++)
        {
            Assert.Equal(segmentTaken[i], i < first.Segments.Count && ReferenceEquals(first.Segments[i], second.Segments[i]));
        }
    }

    [Fact]
    public void MalformedTargetAfterAGoodOneIsStillRefused()
    {
        var first = Parse("/api/doc.json");
        Assert.Throws<RequestRejectedException>(() => ParseAfter(first, "/api/../doc.json"));
        Assert.Throws<RequestRejectedException>(() => ParseAfter(first, "/api//doc.json"));
        Assert.Throws<RequestRejectedException>(() => ParseAfter(first, "/api/%00"));
    }

    [Fact]
    public void ParsesTheRootAsNoSegments()
    {
        var target = Parse("/");
        Assert.Empty(target.Segments);
        Assert.Null(target.Query);
        Assert.Equal("/", target.ToOriginForm());
        Assert.Equal("/", target.Path);
    }

    [Fact]
    public void SplitsThePathIntoSegments()
    {
        var target = Parse("/db/_design/app");
        Assert.Equal(["db", "_design", "app"], target.Segments);
        Assert.False(target.HasTrailingSlash);
        Assert.Equal("/db/_design/app", target.ToOriginForm());
    }

    [Fact]
    public void KeepsASingleTrailingSlash()
    {
        var target = Parse("/db/");
        Assert.Equal(["db"], target.Segments);
        Assert.True(target.HasTrailingSlash);
        Assert.Equal("/db/", target.ToOriginForm());
        Assert.Equal("/db/", target.Path);
    }

    [Fact]
    public void KeepsTheQueryVerbatim()
    {
        var target = Parse("/db/_changes?feed=continuous&since=%5B1%2C%22a%22%5D&x=/?y");
        Assert.Equal("feed=continuous&since=%5B1%2C%22a%22%5D&x=/?y", target.Query);
        Assert.Equal("/db/_changes?feed=continuous&since=%5B1%2C%22a%22%5D&x=/?y", target.ToOriginForm());
    }

    [Fact]
    public void KeepsAnEmptyQueryDistinctFromNone()
    {
        Assert.Equal(string.Empty, Parse("/a?").Query);
        Assert.Equal("/a?", Parse("/a?").ToOriginForm());
        Assert.Null(Parse("/a").Query);
    }

    [Fact]
    public void DecodesPercentEscapesInSegments()
    {
        var target = Parse("/files/caf%C3%A9%20au%20lait/%7Euser");
        Assert.Equal(["files", "café au lait", "~user"], target.Segments);
    }

    [Fact]
    public void KeepsAnEncodedSlashInsideItsSegmentAndReEncodesIt()
    {
        var target = Parse("/db/_design%2Fapp/doc");
        Assert.Equal(["db", "_design/app", "doc"], target.Segments);
        Assert.Equal("/db/_design%2Fapp/doc", target.ToOriginForm());
    }

    [Fact]
    public void ReEncodesSpacesAndUtf8FromTheDecodedForm()
    {
        Assert.Equal("/caf%C3%A9%20au%20lait", Parse("/caf%c3%a9%20au%20lait").ToOriginForm());
        Assert.Equal("/%F0%9F%98%80", Parse("/%F0%9F%98%80").ToOriginForm());
    }

    [Fact]
    public void NormalizesNeedlessEscapesOfUnreservedBytes()
    {
        Assert.Equal("/abc~-._", Parse("/%61b%63%7E%2D%2E%5F").ToOriginForm());
    }

    [Fact]
    public void ReEncodesAPercentSign()
    {
        var target = Parse("/100%25");
        Assert.Equal(["100%"], target.Segments);
        Assert.Equal("/100%25", target.ToOriginForm());
    }

    [Fact]
    public void KeepsSubDelimsButSemicolonColonAndAtVerbatim()
    {
        // ';' would start a servlet path parameter ("..;/" is ".." to Tomcat): sent as %3B.
        Assert.Equal("/a:b@c!$&'()*+,%3B=/..%3B", Parse("/a:b@c!$&'()*+,;=/..;").ToOriginForm());
    }

    [Fact]
    public void QueryOverrideReplacesTheClientsQuery()
    {
        var target = Parse("/couch/db/_changes?since=0;filter=x");
        Assert.Equal("/db/_changes?since=0&filter=x", target.ToOriginForm(1, "since=0&filter=x"));
        Assert.Equal("/db/_changes", target.ToOriginForm(1, null));
    }

    [Fact]
    public void SkipsMountSegmentsInOriginForm()
    {
        var target = Parse("/couch/db/doc%2F1?rev=2");
        Assert.Equal("/db/doc%2F1?rev=2", target.ToOriginForm(1));
        Assert.Equal("/doc%2F1?rev=2", target.ToOriginForm(2));
        Assert.Equal("/?rev=2", target.ToOriginForm(3));
    }

    [Fact]
    public void SkippingEverySegmentOfATrailingSlashPathLeavesOneSlash()
    {
        var target = Parse("/couch/");
        Assert.Equal("/", target.ToOriginForm(1));
        Assert.Equal("/x/", Parse("/couch/x/").ToOriginForm(1));
    }

    [Fact]
    public void MatchesSegmentPrefixesOrdinally()
    {
        var target = Parse("/Files/a/b");
        Assert.True(target.StartsWith(["Files", "a"]));
        Assert.False(target.StartsWith(["files"]));
        Assert.False(target.StartsWith(["Files", "a", "b", "c"]));
        Assert.True(target.StartsWith([]));
    }

    [Fact]
    public void ParsesAbsoluteFormIntoAuthorityAndPath()
    {
        var target = Parse("HTTP://Example.com:8080/a/b?c");
        Assert.Equal("Example.com:8080", target.Authority);
        Assert.Equal(["a", "b"], target.Segments);
        Assert.Equal("/a/b?c", target.ToOriginForm());
    }

    [Fact]
    public void GivesAnAbsoluteFormWithOnlyAQueryTheRootPath()
    {
        Assert.Equal("/?x=1", Parse("http://h?x=1").ToOriginForm());
    }

    [Fact]
    public void ParsesTheAsteriskForm()
    {
        var target = Parse("*");
        Assert.True(target.IsAsterisk);
        Assert.Equal("*", target.ToOriginForm());
    }

    [Theory]
    [InlineData("")]
    [InlineData("a/b")]
    [InlineData("/.")]
    [InlineData("/..")]
    [InlineData("/a/./b")]
    [InlineData("/a/../b")]
    [InlineData("/a/..")]
    [InlineData("/a/.")]
    [InlineData("/./")]
    [InlineData("/%2e")]
    [InlineData("/%2E%2e")]
    [InlineData("/a/%2e%2e/b")]
    [InlineData("/.%2e/")]
    [InlineData("/a//b")]
    [InlineData("/a//")]
    [InlineData("//a")]
    [InlineData("//")]
    [InlineData("///")]
    [InlineData("/a%00b")]
    [InlineData("/a%01")]
    [InlineData("/a%0A")]
    [InlineData("/a%0d%0a")]
    [InlineData("/a%1F")]
    [InlineData("/a%7F")]
    [InlineData("/a%")]
    [InlineData("/a%2")]
    [InlineData("/a%zz")]
    [InlineData("/a%%32%65")]
    [InlineData("/%C3")]
    [InlineData("/%C3%28")]
    [InlineData("/%FF")]
    [InlineData("/%ED%A0%80")]
    [InlineData("/%C0%AF")]
    [InlineData("/a b")]
    [InlineData("/a\"b")]
    [InlineData("/a\\b")]
    [InlineData("/a<b>")]
    [InlineData("/a#frag")]
    [InlineData("/a?b#frag")]
    [InlineData("/a{b}")]
    [InlineData("/a|b")]
    [InlineData("/a^b")]
    [InlineData("/a`b")]
    [InlineData("/caf\u00e9")]
    [InlineData("/a\tb")]
    [InlineData("/?a%00")]
    [InlineData("/?a%zz")]
    [InlineData("/?a%")]
    [InlineData("/?a b")]
    [InlineData("/?a\u00e9")]
    [InlineData("ftp://h/a")]
    [InlineData("http://")]
    [InlineData("http:///a")]
    [InlineData("http://u@h/a")]
    [InlineData("http://u:p@h/a")]
    [InlineData("http://h:x/a")]
    [InlineData("http://h/../a")]
    [InlineData("http://h//a")]
    [InlineData("h:80")]
    [InlineData("**")]
    public void RejectsNonCanonicalTargets(string raw)
    {
        var rejected = Assert.Throws<RequestRejectedException>(() => Parse(raw));
        Assert.Equal(RejectReason.InvalidTarget, rejected.Reason);
    }

    [Theory]
    [InlineData("/.a")]
    [InlineData("/..a")]
    [InlineData("/a.")]
    [InlineData("/...")]
    [InlineData("/%2e%2e%2e")]
    [InlineData("/.well-known/x")]
    public void AcceptsSegmentsThatOnlyLookLikeDotSegments(string raw)
    {
        Assert.Single(Parse(raw).Segments, s => s.Contains('.', StringComparison.Ordinal));
    }

    [Fact]
    public void HandlesLongEncodedSegmentsPastTheStackBuffer()
    {
        var raw = "/" + string.Concat(Enumerable.Repeat("%C3%A9", 200));
        var target = Parse(raw);
        Assert.Equal(new string('é', 200), Assert.Single(target.Segments));
        Assert.Equal(raw, target.ToOriginForm());
    }
}
