using Gatehouse.Front;

namespace Gatehouse.Tests;

/// <summary>
/// Issue 19 item 1, the Path mapping alone: a backend with a base path (<c>http://h/app/</c>) names
/// its root "/app", so only paths inside it have a public name under the mount.
/// </summary>
public sealed class SetCookieRewriterTests
{
    [Theory]
    [InlineData("http://127.0.0.1:1/app/", "a=1; Path=/app/x", "a=1; Path=/nb/x")]
    [InlineData("http://127.0.0.1:1/app/", "a=1; Path=/app", "a=1; Path=/nb/")]
    [InlineData("http://127.0.0.1:1/app/", "a=1; Path=/", "a=1; Path=/nb/")] // above the app: the whole mount
    [InlineData("http://127.0.0.1:1/app/", "a=1; Path=/apple", "a=1; Path=/apple")] // outside: no public name
    [InlineData("http://127.0.0.1:1/", "a=1;Path = /x ;Max-Age=60", "a=1;Path =/nb/x;Max-Age=60")]
    [InlineData("unix:/run/app.sock", "a=b=c; PATH=/", "a=b=c; PATH=/nb/")]
    public void PathsMoveUnderTheMount(string backend, string value, string expected) =>
        Assert.Equal(expected, new SetCookieRewriter(new Uri(backend), "/nb/", rewritePath: true, dropDomain: true).Rewrite(value));

    [Fact]
    public void AnUnchangedValueIsTheSameString()
    {
        const string Value = "a=1; Path=/x; Domain=example.org";
        Assert.Same(Value, new SetCookieRewriter(new Uri("http://127.0.0.1:1/"), "/nb/", rewritePath: false, dropDomain: false).Rewrite(Value));
    }

    [Fact]
    public void LongValuesAreRewrittenToo()
    {
        var value = "a=" + new string('v', 3000) + "; Path=/x; Domain=127.0.0.1";
        Assert.Equal("a=" + new string('v', 3000) + "; Path=/nb/x", new SetCookieRewriter(new Uri("http://127.0.0.1:1/"), "/nb/", rewritePath: true, dropDomain: true).Rewrite(value));
    }
}
