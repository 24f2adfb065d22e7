using System.Text.Json;

namespace Gatehouse.Http1.Tests.Corpus;

/// <summary>
/// llhttp-requests.jsonl: llhttp's own request tests over a real socket. llhttp is a parser, not a
/// server, so its verdicts are mapped (corpora README): an "ok" request without Host is a 400 for an
/// HTTP/1.1 server; RTSP, ICE, HTTP/0.9, CONNECT and the HTTP/2 preface are refused; an "error" after
/// a complete Connection: close message is the first answer and then the close (we never read on).
/// </summary>
public sealed class LlhttpCorpusTests(LlhttpCorpusTests.Server fixture) : IClassFixture<LlhttpCorpusTests.Server>
{
    /// <summary>Where our answer differs from the mapping above, and why.</summary>
    internal static readonly Dictionary<string, (string[] Ours, string Why)> Deviations = new(StringComparer.Ordinal)
    {
        ["method.md:135"] = (["reject"], "M-SEARCH *: the asterisk form is for OPTIONS only (RFC 9112 §3.2.4); SSDP is not HTTP we serve"),
        ["invalid.md:66"] = (["ok"], "ANNOUNCE over HTTP/1.0: llhttp ties ANNOUNCE to RTSP, but any token is a method (RFC 9110 §9.1); the handler decides"),
        ["finish.md:30"] = (["close"], UnfinishedHead),
        ["finish.md:55"] = (["close"], UnfinishedHead),
        ["invalid.md:490"] = (["close"], UnfinishedHead + " (\"HTTP/5.6\" with no CRLF: we judge whole lines)"),
        ["invalid.md:509"] = (["close"], UnfinishedHead + " (obs-fold ' Host: foo' with no CRLF)"),
        ["content-length.md:75"] = (["close"], UnfinishedHead + " (Content-Length overflow: framing is judged once the head is complete)"),
        ["content-length.md:100"] = (["close"], UnfinishedHead + " (duplicate Content-Length: judged once the head is complete)"),
        ["content-length.md:493"] = (["close"], UnfinishedHead + " (\"\\rabc\" where the empty line should be: no LF ever arrives)"),
    };

    /// <summary>llhttp errors at EOF inside a head; we judge complete lines and framing at the head's end, so a half-closed unfinished head just closes with no answer (nothing reached a handler).</summary>
    private const string UnfinishedHead = "head never finished before the client's FIN: closed without an answer";

    private static readonly Lazy<Dictionary<string, JsonElement>> Vectors = new(() =>
        CorpusFiles.Load("llhttp-requests.jsonl").ToDictionary(Name, StringComparer.Ordinal));

    public static TheoryData<string> Names => new(Vectors.Value.Keys);

    [Theory]
    [MemberData(nameof(Names))]
    public async Task AnswersTheVectorAsMapped(string name)
    {
        var vector = Vectors.Value[name];
        var raw = Convert.FromBase64String(vector.GetProperty("raw_base64").GetString()!);
        var expected = Deviations.TryGetValue(name, out var deviation) ? deviation.Ours : Mapped(vector);
        await CorpusRunner.RunAsync(fixture.Endpoint, raw, [.. expected.Select(CorpusRunner.Parse)], name + " " + vector.GetProperty("title").GetString());
    }

    [Fact]
    public void DeviatesOnlyFromVectorsThatExist()
    {
        foreach (var (name, _) in Deviations)
        {
            Assert.True(Vectors.Value.ContainsKey(name), name + " is not in the corpus");
        }
    }

    /// <summary>"sample.md:67": the source file and line, unique in the corpus.</summary>
    private static string Name(JsonElement vector) =>
        Path.GetFileName(vector.GetProperty("file").GetString()!) + ":" + vector.GetProperty("line").GetInt32();

    private static string[] Mapped(JsonElement vector)
    {
        var note = vector.TryGetProperty("note", out var n) ? n.GetString() ?? string.Empty : string.Empty;
        var completed = vector.GetProperty("messages_completed").GetInt32();
        var lacksHost = vector.TryGetProperty("lacks_host", out var h) && h.GetBoolean();
        if (note.Contains("RTSP", StringComparison.Ordinal) || note.Contains("HTTP/0.9", StringComparison.Ordinal)
            || note.Contains("HTTP/2 preface", StringComparison.Ordinal) || vector.GetProperty("method").GetString() == "CONNECT")
        {
            return ["reject"];
        }

        if (vector.GetProperty("expect").GetString() == "ok")
        {
            // lacks_host: the first message already has no Host, so the answer is 400 at once.
            return lacksHost ? ["reject"] : [.. Enumerable.Repeat("ok", completed)];
        }

        if (note.StartsWith("first message is valid", StringComparison.Ordinal))
        {
            return [.. Enumerable.Repeat("ok", completed)];
        }

        return [.. Enumerable.Repeat("ok", completed), "reject"];
    }

    /// <summary>Its own server, so the two corpus classes can run side by side.</summary>
    public sealed class Server : IAsyncLifetime
    {
        private readonly PlainServerFixture _inner = new();

        internal Support.TestServer Value => _inner.Server;

        internal System.Net.IPEndPoint Endpoint => _inner.Server.Endpoint;

        public Task InitializeAsync() => _inner.InitializeAsync();

        public Task DisposeAsync() => _inner.DisposeAsync();
    }
}
