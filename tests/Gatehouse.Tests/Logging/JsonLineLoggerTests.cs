using System.Net;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using Gatehouse.Http1;
using Gatehouse.Logging;
using Gatehouse.Routing;
using Microsoft.Extensions.Logging;

namespace Gatehouse.Tests.Logging;

/// <summary>
/// Gatehouse's JSON log lines keep the shape of the runtime's JSON console formatter, which wrote
/// them before (so what reads the logs reads them as before). The expected lines are what that
/// formatter wrote for the same calls, timestamps aside.
/// </summary>
public sealed partial class JsonLineLoggerTests
{
    [Fact]
    public void AnAccessLineIsWhatTheRuntimesFormatterWrote()
    {
        var line = new AccessLine("GET", CanonicalTarget.Parse("/api/doc.json"u8), 200, "", "", IPEndPoint.Parse("127.0.0.1:42324"), "/api/", 0, 300, 137.36, "")
            .Upstream(11.69, 36.08);
        var lines = Log(LogLevel.Information, logger => AccessLog.Write(logger, line), "Gatehouse.Access");

        // The runtime's console formatter's line for the same entry (EventId was 0 before the access lines had their own methods).
        Assert.Equal(
            """{"EventId":1,"LogLevel":"Information","Category":"Gatehouse.Access","Message":"GET /api/doc.json 200 principal= subject= remote=127.0.0.1:42324 route=/api/ in=0 out=300 ms=137.36 upstreamFirstByteMs=11.69 upstreamTotalMs=36.08","State":{"Method":"GET","Path":"/api/doc.json","Status":200,"Pin":"","Subject":"","Remote":"127.0.0.1:42324","Route":"/api/","BytesIn":0,"BytesOut":300,"DurationMs":137.36,"UpstreamFirstByteMs":11.69,"UpstreamTotalMs":36.08,"Refusal":"","{OriginalFormat}":"{Method} {Path} {Status} principal={Pin} subject={Subject} remote={Remote} route={Route} in={BytesIn} out={BytesOut} ms={DurationMs} upstreamFirstByteMs={UpstreamFirstByteMs} upstreamTotalMs={UpstreamTotalMs}{Refusal}"}}""",
            Assert.Single(lines));
    }

    [Theory]
    [InlineData("/files/a%20b/", "[::1]:5000", " refused=no grant", false)]
    [InlineData("/couch/db/_all_docs", "192.168.1.20:443", "", true)]
    [InlineData("*", "[fe80::1%2]:8443", "", false)]
    public void AnAccessLineWritesItselfAsItsPropertiesWouldBeWritten(string path, string remote, string refusal, bool forwarded)
    {
        var line = new AccessLine(
            path == "*" ? "OPTIONS" : "GET", CanonicalTarget.Parse(System.Text.Encoding.ASCII.GetBytes(path)), 403, "sha256//k+ey=", "CN=Ünïcode <laptop>",
            IPEndPoint.Parse(remote), "files", 12, 3456, 0.5, refusal);
        if (forwarded)
        {
            line.Upstream(-1, 1234.25);
        }

        // The line's own writing against the generic path's (its message and its list of properties).
        var own = Log(LogLevel.Information, logger => AccessLog.Write(logger, line), "Gatehouse.Access");
        var generic = Log(LogLevel.Information, logger => logger.Log(LogLevel.Information, new EventId(line.EventId), new PropertiesOnly(line), null, (state, _) => state.Line.ToString()), "Gatehouse.Access");

        Assert.Equal(Assert.Single(generic), Assert.Single(own));
        Assert.Contains($"remote={remote}", own[0], StringComparison.Ordinal);
    }

    /// <summary>The access line seen only as a list of properties, as by a logger other than Gatehouse's.</summary>
    private sealed class PropertiesOnly(AccessLine line) : IReadOnlyList<KeyValuePair<string, object?>>
    {
        public AccessLine Line => line;

        public int Count => line.Count;

        public KeyValuePair<string, object?> this[int index] => line[index];

        public IEnumerator<KeyValuePair<string, object?>> GetEnumerator() => line.GetEnumerator();

        System.Collections.IEnumerator System.Collections.IEnumerable.GetEnumerator() => GetEnumerator();
    }

    [Fact]
    public void TextIsEscapedAsTheRuntimesFormatterEscapedIt()
    {
        const string Pin = "sha256//tv7vtP/cAY+jmoW1BSsL1dGp/y5WBsDBjmwCKQd+8OQ=";
        var lines = Log(LogLevel.Information, logger => logger.LogInformation("listening on {Endpoints} as {Pin}", "127.0.0.1:41171", Pin));

        Assert.Equal(
            """{"EventId":0,"LogLevel":"Information","Category":"Test","Message":"listening on 127.0.0.1:41171 as sha256//tv7vtP/cAY\u002BjmoW1BSsL1dGp/y5WBsDBjmwCKQd\u002B8OQ=","State":{"Endpoints":"127.0.0.1:41171","Pin":"sha256//tv7vtP/cAY\u002BjmoW1BSsL1dGp/y5WBsDBjmwCKQd\u002B8OQ=","{OriginalFormat}":"listening on {Endpoints} as {Pin}"}}""",
            Assert.Single(lines));
    }

    [Fact]
    public void AnExceptionStaysOnItsLineAndOddValuesStayJson()
    {
        var lines = Log(LogLevel.Debug, logger =>
        {
            try
            {
                throw new InvalidOperationException("first line\nsecond line");
            }
            catch (InvalidOperationException ex)
            {
                logger.LogWarning(ex, "failed {Count} {Ratio} {Flag} {Nothing} {Letter} {Small}", 3L, double.NaN, true, null, 'x', (byte)7);
            }
        });

        var line = Assert.Single(lines);
        using var json = JsonDocument.Parse(line);
        var root = json.RootElement;
        Assert.Equal("Warning", root.GetProperty("LogLevel").GetString());
        Assert.Contains("InvalidOperationException: first line", root.GetProperty("Exception").GetString(), StringComparison.Ordinal);
        var state = root.GetProperty("State");
        Assert.Equal(3, state.GetProperty("Count").GetInt64());
        Assert.Equal("NaN", state.GetProperty("Ratio").GetString());
        Assert.True(state.GetProperty("Flag").GetBoolean());
        Assert.Equal(JsonValueKind.Null, state.GetProperty("Nothing").ValueKind);
        Assert.Equal("x", state.GetProperty("Letter").GetString());
        Assert.Equal(7, state.GetProperty("Small").GetInt32());
    }

    [Fact]
    public void AValueThatLogsWhileItsLineIsMadeLeavesBothLinesWhole()
    {
        var lines = Log(LogLevel.Information, logger => logger.LogInformation("outer {Value}", new LogsWhenFormatted(logger)));

        Assert.Equal(2, lines.Count);
        Assert.Contains("\"Message\":\"inner\"", lines[0], StringComparison.Ordinal);
        Assert.Contains("\"Message\":\"outer formatted\"", lines[1], StringComparison.Ordinal);
        Assert.All(lines, line => JsonDocument.Parse(line).Dispose());
    }

    /// <summary>A value whose second ToString logs: the first makes the message, the second the property, in the middle of the outer line.</summary>
    private sealed class LogsWhenFormatted(ILogger logger)
    {
        private int _calls;

        public override string ToString()
        {
            if (++_calls == 2)
            {
                logger.LogInformation("inner");
            }

            return "formatted";
        }
    }

    [Fact]
    public void LevelsBelowTheMinimumWriteNothing()
    {
        var lines = Log(LogLevel.Warning, logger =>
        {
            logger.LogInformation("not this");
            logger.LogWarning("this");
        });

        Assert.Contains("\"Message\":\"this\"", Assert.Single(lines), StringComparison.Ordinal);
    }

    /// <summary>Runs <paramref name="log"/> against a logger of <paramref name="category"/>; returns the lines without their timestamps.</summary>
    private static List<string> Log(LogLevel minimum, Action<ILogger> log, string category = "Test")
    {
        using var sink = new MemoryStream();
        var provider = new JsonLineLoggerProvider(sink, minimum);
        log(provider.CreateLogger(category));
        provider.Dispose();
        var text = Encoding.UTF8.GetString(sink.ToArray());
        var lines = text.Split('\n', StringSplitOptions.RemoveEmptyEntries).ToList();
        Assert.All(lines, l => Assert.Matches(Timestamp(), l));
        return [.. lines.Select(l => Timestamp().Replace(l, "{"))];
    }

    [GeneratedRegex("""^\{"Timestamp":"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z",""")]
    private static partial Regex Timestamp();
}
