using System.Diagnostics;
using System.Text;
using Gatehouse.Http1;

namespace Gatehouse.Proxy.Tests;

/// <summary>Issue 17 item 2: the streaming reader that finds design documents in CouchDB write bodies.</summary>
public sealed class DesignDocumentScannerTests
{
    public static TheoryData<string> RefusedDocuments => new()
    {
        """{"_id":"_design/x"}""",
        """{"_id":"_design/x","views":{}}""",
        """{"a":1,"b":[1,2,{"c":null}],"_id":"_design/x"}""",
        """{"\u005fid":"_design/x"}""",
        """{"_id":"\u005fdesign/x"}""",
        """{"_id":"\u005F\u0064esign\/x"}""",
        """{"_id":"plain","_id":"_design/x"}""",
        """{"_id":"_design/x","_id":"plain"}""",
        """{"_id":"_design/x","_deleted":true,"_rev":"1-a"}""",
        """ {"_id" : "_design/validate" , "validate_doc_update" : "function(){throw({forbidden:'x'})}"} """,
    };

    public static TheoryData<string> RefusedBulks => new()
    {
        """{"docs":[{"_id":"_design/x"}]}""",
        """{"docs":[{"_id":"a"},{"_id":"_design/x","_rev":"1-a"}],"new_edits":false}""",
        """{"new_edits":false,"docs":[{"_id":"_design/x","_rev":"2-b","_deleted":true}]}""",
        """{"docs":[{"_id":"a"}],"docs":[{"_id":"_design/x"}]}""",
        """{"docs":[{"_id":"_design/x"}],"docs":[{"_id":"a"}]}""",
        """{"d\u006fcs":[{"_id":"_design/x"}]}""",
        """{"docs":[{"x":{"y":[1,{"z":2}]},"_id":"\u005fdesign/x"}]}""",
        """{"docs":[{"_id":"a","_id":"_design/x"}]}""",
    };

    public static TheoryData<string> PassedDocuments => new()
    {
        """{}""",
        """{"_id":"plain"}""",
        """{"_id":"_designx"}""",
        """{"_id":"_design"}""",
        """{"_id":"_design%2Fx"}""",
        """{"_id":" _design/x"}""",
        """{"_id":"a/_design/x"}""",
        """{"_id":"_local/x"}""",
        """{"value":"_id","other":"_design/x"}""",
        """{"nested":{"_id":"_design/x"},"list":[{"_id":"_design/y"}]}""",
        """{"docs":[{"_id":"_design/x"}]}""",
        """{"_id":"plain"}  """,
        "\t{\"_id\":\"caf\u00e9\"}\r\n",
    };

    public static TheoryData<string> PassedBulks => new()
    {
        """{"docs":[]}""",
        """{"docs":[{"_id":"a"},{"_id":"b","_rev":"1-a","_deleted":true}],"new_edits":false}""",
        """{"docs":[{"sub":{"_id":"_design/x"}}]}""",
        """{"other":[{"_id":"_design/x"}],"docs":[{"_id":"a"}]}""",
        """{"_id":"_design/x","docs":[]}""",
        """{"docs":[[{"_id":"_design/x"}], "x", 1]}""",
    };

    public static TheoryData<string, string> Invalid => new()
    {
        { "Document", "" },
        { "Document", "{" },
        { "Document", """{"_id":"a" """ },
        { "Document", """{"_id":"a"}x""" },
        { "Document", """{"_id":"a"}{}""" },
        { "Document", """{'_id':'a'}""" },
        { "Document", """{"_id":1}""" },
        { "Document", """{"_id":null}""" },
        { "Document", """{"_id":["_design/x"]}""" },
        { "Document", """{"_id":"a",}""" },
        { "Document", """/*c*/{}""" },
        { "Document", """[{"_id":"_design/x"}]""" },
        { "Document", "\"_design/x\"" },
        { "Document", """{"_id":"\ud800"}""" },
        { "BulkDocs", """{"docs":{}}""" },
        { "BulkDocs", """{"docs":[{"_id":"a"}]""" },
        { "BulkDocs", """[{"_id":"_design/x"}]""" },
        { "BulkDocs", """{"docs":[{"_id":2}]}""" },
    };

    [Theory]
    [MemberData(nameof(RefusedDocuments))]
    public void RefusesADesignDocumentBody(string body) => AssertEverySplit(CouchBodyInspection.Document, body, 403);

    [Theory]
    [MemberData(nameof(RefusedBulks))]
    public void RefusesABulkWithADesignDocument(string body) => AssertEverySplit(CouchBodyInspection.BulkDocs, body, 403);

    [Theory]
    [MemberData(nameof(PassedDocuments))]
    public void PassesOrdinaryDocuments(string body) => AssertEverySplit(CouchBodyInspection.Document, body, null);

    [Theory]
    [MemberData(nameof(PassedBulks))]
    public void PassesOrdinaryBulks(string body) => AssertEverySplit(CouchBodyInspection.BulkDocs, body, null);

    [Theory]
    [MemberData(nameof(Invalid))]
    public void RefusesWhatIsNotOneJsonObject(string kind, string body) => AssertEverySplit(Enum.Parse<CouchBodyInspection>(kind), body, 400);

    [Fact]
    public void FindsADesignDocumentAfterFiveMegabytesOfOrdinaryOnes()
    {
        var body = Bulk(5 << 20, """{"_id":"_design/last","validate_doc_update":"function(){}"}""");
        Assert.Equal(403, Outcome(CouchBodyInspection.BulkDocs, Pieces(body, 32 * 1024)));
        Assert.Null(Outcome(CouchBodyInspection.BulkDocs, Pieces(Bulk(5 << 20, """{"_id":"last"}"""), 32 * 1024)));
    }

    [Fact]
    public void ReadsALongTokenInLinearTimeAndBoundsIt()
    {
        var data = new string('A', 24 << 20);
        var body = Encoding.UTF8.GetBytes("{\"docs\":[{\"_id\":\"a\",\"_attachments\":{\"f\":{\"content_type\":\"x\",\"data\":\"" + data + "\"}}},{\"_id\":\"_design/x\"}]}");
        var clock = Stopwatch.StartNew();
        Assert.Equal(403, Outcome(CouchBodyInspection.BulkDocs, Pieces(body, 32 * 1024)));
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(20), $"took {clock.Elapsed}");

        Assert.Equal(413, Outcome(CouchBodyInspection.BulkDocs, Pieces(body, 32 * 1024), maxTokenBytes: 1 << 20));
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task HoldsBackTheLastByteUntilTheWholeBodyIsJudged(bool chunked)
    {
        string[] bodies = [.. RefusedBulks.Select((object[] row) => (string)row[0]), """{"docs":[{"_id":"a"}]""", """{"docs":[{"_id":"a"}]}x"""];
        foreach (var body in bodies)
        {
            var bytes = Encoding.UTF8.GetBytes(body);
            for (var piece = 1; piece <= bytes.Length; piece++)
            {
                for (var readSize = 1; readSize <= 4; readSize++)
                {
                    using var guard = new DesignGuardBody(new PiecesBody(Pieces(bytes, piece), chunked), CouchBodyInspection.BulkDocs);
                    var handedOn = 0;
                    var buffer = new byte[readSize];
                    var refused = await Assert.ThrowsAsync<RequestRejectedException>(async () =>
                    {
                        while (await guard.ReadAsync(buffer) is var read and > 0)
                        {
                            handedOn += read;
                        }
                    });
                    Assert.True(handedOn < bytes.Length, $"{body}: all {bytes.Length} bytes went on before the {refused.StatusCode}");
                }
            }
        }
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task PassesAnAcceptedBodyOnByteForByte(bool chunked)
    {
        var bytes = Bulk(300 * 1024, """{"_id":"last"}""");
        foreach (var readSize in new[] { 1, 2, 7, 32 * 1024 })
        {
            using var guard = new DesignGuardBody(new PiecesBody(Pieces(bytes, 5000), chunked), CouchBodyInspection.BulkDocs);
            using var copy = new MemoryStream();
            var buffer = new byte[readSize];
            while (await guard.ReadAsync(buffer) is var read and > 0)
            {
                copy.Write(buffer, 0, read);
                Assert.Equal(copy.Length, guard.BytesRead);
            }

            Assert.True(guard.IsComplete);
            Assert.Equal(bytes, copy.ToArray());
        }
    }

    /// <summary>The same outcome whole, split in two at every byte, and one byte at a time.</summary>
    private static void AssertEverySplit(CouchBodyInspection kind, string body, int? expected)
    {
        var bytes = Encoding.UTF8.GetBytes(body);
        Assert.Equal(expected, Outcome(kind, [bytes]));
        Assert.Equal(expected, Outcome(kind, Pieces(bytes, 1)));
        for (var split = 0; split <= bytes.Length; split++)
        {
            Assert.Equal(expected, Outcome(kind, [bytes[..split], bytes[split..]]));
        }
    }

    private static int? Outcome(CouchBodyInspection kind, IEnumerable<byte[]> pieces, int maxTokenBytes = DesignDocumentScanner.DefaultMaxTokenBytes)
    {
        using var scanner = new DesignDocumentScanner(kind, maxTokenBytes: maxTokenBytes);
        try
        {
            foreach (var piece in pieces)
            {
                scanner.Feed(piece);
            }

            scanner.Complete();
            return null;
        }
        catch (RequestRejectedException ex)
        {
            Assert.False(string.IsNullOrEmpty(ex.Message));
            return ex.StatusCode;
        }
    }

    private static List<byte[]> Pieces(byte[] bytes, int size) =>
        [.. bytes.Chunk(size)];

    /// <summary>A _bulk_docs body of about <paramref name="size"/> bytes of ordinary documents, then <paramref name="last"/>.</summary>
    private static byte[] Bulk(int size, string last)
    {
        var text = new StringBuilder("""{"new_edits":false,"docs":[""");
        for (var i = 0; text.Length < size; i++)
        {
            text.Append($$"""{"_id":"doc-{{i}}","_rev":"1-abc","n":{{i}},"tags":["a","b"],"_design":"not an id"},""");
        }

        return Encoding.UTF8.GetBytes(text.Append(last).Append("]}").ToString());
    }

    /// <summary>
    /// A client body that arrives in the given pieces; complete with its last byte (Content-Length),
    /// or only after one more read returns 0 (chunked: the last-chunk is read separately).
    /// </summary>
    private sealed class PiecesBody(List<byte[]> pieces, bool chunked) : RequestBody
    {
        private int _piece;
        private int _offset;
        private bool _ended;

        public override bool IsComplete => chunked ? _ended : _piece == pieces.Count;

        public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
        {
            while (_piece < pieces.Count && _offset == pieces[_piece].Length)
            {
                _piece++;
                _offset = 0;
            }

            if (buffer.IsEmpty)
            {
                return ValueTask.FromResult(0);
            }

            if (_piece == pieces.Count)
            {
                _ended = true;
                return ValueTask.FromResult(0);
            }

            var count = Math.Min(buffer.Length, pieces[_piece].Length - _offset);
            pieces[_piece].AsSpan(_offset, count).CopyTo(buffer.Span);
            _offset += count;
            if (_offset == pieces[_piece].Length)
            {
                _piece++;
                _offset = 0;
            }

            BytesRead += count;
            return ValueTask.FromResult(count);
        }
    }
}
