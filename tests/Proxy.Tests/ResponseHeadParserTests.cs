using System.Buffers;
using System.IO.Pipelines;
using System.Text;
using System.Text.Json;

namespace Gatehouse.Proxy.Tests;

public sealed class ResponseHeadParserTests
{
    /// <summary>
    /// Corpus entries where our verdict is stricter than llhttp's (a gateway refuses doubt rather
    /// than guess), or where llhttp's error is about bytes after the first answer, which we never
    /// parse (the connection is simply not reused).
    /// </summary>
    private static readonly Dictionary<string, string> Overrides = new()
    {
        ["RTSP response"] = "error", // only HTTP/1.0 and HTTP/1.1 upstreams
        ["ICE response"] = "error",
        ["HTTP version 0.9"] = "error",
        ["Response starting with CRLF"] = "error", // no leading empty lines before a status line
        ["`chunked` before other transfer-encoding"] = "error", // only "chunked" alone is relayed
        ["multiple transfer-encoding where chunked is not the last one"] = "error",
        ["`chunkedchunked` transfer-encoding does not enable chunked enconding"] = "error",
        ["HTTP 100 first, then 400"] = "error", // stray CRLF after the interim answer
        ["Content-Length reset when no body is received"] = "ok-truncated",
        ["HTTP/1.1 with keep-alive disabled and 204 status"] = "ok", // extra bytes: never reused
        ["HTTP/1.1 with keep-alive disabled, content-length (lenient)"] = "ok",
        ["HTTP/1.1 with keep-alive disabled, content-length"] = "ok",
    };

    /// <summary>
    /// Body figures that are not ours to compare: llhttp ran the first with skipBody (as the answer
    /// to a HEAD); for the second its figures describe the interim answer we skip.
    /// </summary>
    private static readonly HashSet<string> SkipBody = ["Content-Length reset when no body is received", "HTTP 103 first, then 200"];

    public static TheoryData<string> CorpusTitles()
    {
        var data = new TheoryData<string>();
        foreach (var entry in LoadCorpus())
        {
            data.Add(entry.Title);
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(CorpusTitles))]
    public async Task AgreesWithTheLlhttpResponseCorpus(string title)
    {
        var entry = LoadCorpus().First(e => e.Title == title);
        var expect = Overrides.TryGetValue(title, out var o) ? o : entry.Expect;
        if (expect == "ok-truncated")
        {
            entry = entry with { Incomplete = true, BodyLength = null };
        }

        if (expect == "error")
        {
            await Assert.ThrowsAnyAsync<Exception>(() => ParseFirstMessageAsync(entry.Raw));
            return;
        }

        var (head, body, truncated) = await ParseFirstMessageAsync(entry.Raw, allowTruncated: entry.Incomplete);
        if (entry.Headers is { } headers && !title.Contains(" first, then ", StringComparison.Ordinal))
        {
            Assert.Equal(headers, head.Headers.Select(h => (h.Name, h.Value)).ToList());
        }

        Assert.True(!truncated || entry.Incomplete); // "incomplete" may also mean a later pipelined answer
        if (entry.BodyLength is { } length && !SkipBody.Contains(title))
        {
            Assert.Equal(length, body.Length);
        }
    }

    [Fact]
    public void WaitsForMoreBytesAtEverySplitPoint()
    {
        var raw = "HTTP/1.1 200 OK\r\nServer: CouchDB/3.3.3 (Erlang OTP/25)\r\nContent-Length: 2\r\n\r\n{}"u8.ToArray();
        var headLength = raw.Length - 2;
        for (var split = 0; split < headLength; split++)
        {
            var partial = new SequenceReader<byte>(new ReadOnlySequence<byte>(raw, 0, split));
            Assert.False(ResponseHeadParser.TryParse(ref partial, out _));
            Assert.Equal(0, partial.Consumed);
        }

        var whole = new SequenceReader<byte>(new ReadOnlySequence<byte>(raw));
        Assert.True(ResponseHeadParser.TryParse(ref whole, out var head));
        Assert.Equal(headLength, whole.Consumed);
        Assert.Equal(2, head!.ContentLength);
    }

    [Theory]
    [InlineData("HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 1\r\n\r\n")]
    [InlineData("HTTP/1.1 200 OK\r\nContent-Length: 1, 1\r\n\r\n")]
    [InlineData("HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n")]
    [InlineData("HTTP/1.1 200 OK\r\nContent-Length: 99999999999999999999\r\n\r\n")]
    [InlineData("HTTP/1.1 200 OK\r\nContent-Length: 1\r\nTransfer-Encoding: chunked\r\n\r\n")]
    [InlineData("HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n")]
    [InlineData("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n")]
    [InlineData("HTTP/1.1 200 OK\r\nX-A: 1\r\n folded\r\n\r\n")]
    [InlineData("HTTP/1.1 200 OK\r\nX-A : 1\r\n\r\n")]
    [InlineData("HTTP/1.1 200 OK\r\nX-A: a\0b\r\n\r\n")]
    [InlineData("HTTP/1.1 200 OK\nX-A: 1\r\n\r\n")]
    [InlineData("HTTP/1.1 600 Nope\r\n\r\n")]
    [InlineData("HTTP/2 200 OK\r\n\r\n")]
    public void RefusesAmbiguousOrMalformedHeads(string raw)
    {
        Assert.Throws<UpstreamProtocolException>(() => Parse(raw));
    }

    [Fact]
    public void RefusesHeadsBeyondTheLimit()
    {
        var raw = "HTTP/1.1 200 OK\r\nX-Big: " + new string('a', ResponseHeadParser.MaxHeadBytes) + "\r\n\r\n";
        Assert.Throws<UpstreamProtocolException>(() => Parse(raw));
    }

    [Theory]
    [InlineData("5\r\nhello\r\n0\r\n\r\n", "hello")]
    [InlineData("5;a=b;c=\"q\\\"x\"\r\nhello\r\n6 ; x\r\n world\r\n0\r\nTrailer: t\r\n\r\n", "hello world")]
    [InlineData("000A\r\n0123456789\r\n0\r\n\r\n", "0123456789")]
    public async Task DecodesChunkedBodies(string raw, string expected)
    {
        var (_, body, _) = await ParseFirstMessageAsync(Encoding.Latin1.GetBytes("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n" + raw));
        Assert.Equal(expected, Encoding.Latin1.GetString(body));
    }

    [Theory]
    [InlineData("5 \r\nhello\r\n0\r\n\r\n")]
    [InlineData("5;\r\nhello\r\n0\r\n\r\n")]
    [InlineData("5\r\nhelloXX0\r\n\r\n")]
    [InlineData("1000000000000000\r\n")]
    [InlineData("-5\r\nhello\r\n0\r\n\r\n")]
    [InlineData("5\r\nhello\r\n0\r\nbad trailer\r\n\r\n")]
    [InlineData("5\r\nhel")]
    public async Task RefusesMalformedOrTruncatedChunkedBodies(string raw)
    {
        await Assert.ThrowsAnyAsync<Exception>(() => ParseFirstMessageAsync(Encoding.Latin1.GetBytes("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n" + raw)));
    }

    [Fact]
    public void AReusedHeadKeepsNoConnectionTokenOfTheAnswerBefore()
    {
        // An upstream connection parses every answer into its one head: the second answer's Connection
        // field must decide alone which of its fields are hop-by-hop.
        var head = new UpstreamResponseHead();
        ParseInto(head, "HTTP/1.1 200 OK\r\nConnection: keep-alive, X-Trace\r\nX-Trace: 1\r\nContent-Length: 0\r\n\r\n");
        Assert.Equal(["keep-alive", "X-Trace"], head.ConnectionTokens);
        Assert.False(ForwardedHeaders.IsResponseFieldForwarded("X-Trace", head.ConnectionTokens));

        ParseInto(head, "HTTP/1.1 200 OK\r\nConnection: Keep-Alive\r\nX-Trace: 2\r\nContent-Length: 0\r\n\r\n");
        Assert.Equal(["Keep-Alive"], head.ConnectionTokens);
        Assert.True(ForwardedHeaders.IsResponseFieldForwarded("X-Trace", head.ConnectionTokens));

        ParseInto(head, "HTTP/1.1 204 No Content\r\n\r\n");
        Assert.Empty(head.ConnectionTokens);
    }

    [Fact]
    public void ARepeatedConnectionTokenIsNotMadeAgain()
    {
        var head = new UpstreamResponseHead();
        ParseInto(head, "HTTP/1.1 200 OK\r\nConnection: keep-alive\r\nContent-Length: 0\r\n\r\n");
        var first = head.ConnectionTokens[0];
        ParseInto(head, "HTTP/1.1 200 OK\r\nConnection: keep-alive\r\nContent-Length: 0\r\n\r\n");
        Assert.Same(first, head.ConnectionTokens[0]);
    }

    private static void ParseInto(UpstreamResponseHead head, string raw)
    {
        var reader = new SequenceReader<byte>(new ReadOnlySequence<byte>(Encoding.ASCII.GetBytes(raw)));
        Assert.True(ResponseHeadParser.TryParse(ref reader, head));
    }

    private static void Parse(string raw)
    {
        var reader = new SequenceReader<byte>(new ReadOnlySequence<byte>(Encoding.Latin1.GetBytes(raw)));
        ResponseHeadParser.TryParse(ref reader, out _);
    }

    /// <summary>Parses the first answer and its body from a completed pipe, one byte per read to cross every boundary.</summary>
    private static async Task<(UpstreamResponseHead Head, byte[] Body, bool Truncated)> ParseFirstMessageAsync(byte[] raw, bool allowTruncated = false)
    {
        var pipe = new Pipe();
        await pipe.Writer.WriteAsync(raw);
        await pipe.Writer.CompleteAsync();
        var reader = pipe.Reader;
        UpstreamResponseHead? head;
        while (true)
        {
            if (await ReadHeadAsync(reader) is not { } h)
            {
                throw new IOException("incomplete head");
            }

            head = h;
            if (!head.IsInterim || head.StatusCode == 101)
            {
                break; // the forwarder skips 1xx the same way
            }
        }

        var body = UpstreamBody.Create(head.FramingFor(headRequest: false), reader, head.ContentLength);
        var output = new MemoryStream();
        var buffer = new byte[7];
        var truncated = false;
        while (true)
        {
            int read;
            try
            {
                read = await body.ReadAsync(buffer, CancellationToken.None);
            }
            catch (IOException) when (allowTruncated)
            {
                truncated = true;
                break;
            }

            if (read == 0)
            {
                break;
            }

            output.Write(buffer, 0, read);
        }

        return (head, output.ToArray(), truncated);
    }

    private static async Task<UpstreamResponseHead?> ReadHeadAsync(PipeReader reader)
    {
        while (true)
        {
            UpstreamResponseHead? head;
            var result = await reader.ReadAsync();
            var sequence = new SequenceReader<byte>(result.Buffer);
            var done = false;
            try
            {
                done = ResponseHeadParser.TryParse(ref sequence, out head);
            }
            finally
            {
                reader.AdvanceTo(done ? sequence.Position : result.Buffer.Start, done ? sequence.Position : result.Buffer.End);
            }

            if (done)
            {
                return head;
            }

            if (result.IsCompleted)
            {
                return null;
            }
        }
    }

    private sealed record CorpusEntry(string Title, string Expect, byte[] Raw, List<(string, string)>? Headers, int? BodyLength, bool Incomplete);

    private static List<CorpusEntry> LoadCorpus()
    {
        var path = FindCorpus();
        var entries = new List<CorpusEntry>();
        foreach (var line in File.ReadLines(path))
        {
            using var json = JsonDocument.Parse(line);
            var root = json.RootElement;
            List<(string, string)>? headers = null;
            if (root.TryGetProperty("headers", out var h))
            {
                headers = [.. h.EnumerateArray().Select(pair => (pair[0].GetString()!, pair[1].GetString()!.Trim(' ', '\t')))];
            }

            entries.Add(new CorpusEntry(
                root.GetProperty("title").GetString()!,
                root.GetProperty("expect").GetString()!,
                Convert.FromBase64String(root.GetProperty("raw_base64").GetString()!),
                headers,
                root.TryGetProperty("body_len", out var b) && b.ValueKind == JsonValueKind.Number ? b.GetInt32() : null,
                root.TryGetProperty("incomplete", out var i) && i.ValueKind == JsonValueKind.True));
        }

        return entries;
    }

    private static string FindCorpus()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            foreach (var candidate in new[] { Path.Combine(dir.FullName, "shared", "corpora", "llhttp-responses.jsonl"), Path.Combine(dir.FullName, "..", "shared", "corpora", "llhttp-responses.jsonl") })
            {
                if (File.Exists(candidate))
                {
                    return candidate;
                }
            }
        }

        throw new FileNotFoundException("llhttp-responses.jsonl not found in ../shared/corpora beside the repository");
    }
}
