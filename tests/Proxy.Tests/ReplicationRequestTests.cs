using System.Text;
using System.Text.Json;

namespace Gatehouse.Proxy.Tests;

/// <summary>
/// The body of <c>POST /_replicate</c> as the gateway reads and rebuilds it (issue 23 item 2):
/// ends are database names or peer links, never URLs; every other field is on a closed list.
/// </summary>
public sealed class ReplicationRequestTests
{
    private static readonly ReplicationUpstream Basic = new(new Uri("http://127.0.0.1:5984/"), "device", "p@ss:w/rd", [new("Authorization", "Basic x")], new Uri("http://127.0.0.1:5985/"));

    [Theory]
    [InlineData("""{"source":"http://evil.example/db","target":"t"}""", "not a URL")]
    [InlineData("""{"source":{"url":"http://127.0.0.1:5984/a"},"target":"t"}""", "source.url is not accepted")]
    [InlineData("""{"source":{"peer":"laptop","db":"a","headers":{"Authorization":"x"}},"target":"t"}""", "source.headers is not accepted")]
    [InlineData("""{"source":"a","target":"t","user_ctx":{"roles":["_admin"]}}""", "field user_ctx is not accepted")]
    [InlineData("""{"source":"a","target":"t","source_proxy":"http://x"}""", "field source_proxy is not accepted")]
    [InlineData("""{"source":"a","target":"t","worker_processes":100}""", "field worker_processes is not accepted")]
    [InlineData("""{"source":"a","source":"b","target":"t"}""", "field source is given twice")]
    [InlineData("""{"source":"a"}""", "needs source and target")]
    [InlineData("""{"source":"A","target":"t"}""", "source is not a valid database name")]
    [InlineData("""{"source":"a","target":"t","continuous":"yes"}""", "continuous must be true or false")]
    [InlineData("""{"source":"a","target":"t","filter":"a/b/c"}""", "filter must be")]
    [InlineData("""{"source":"a","target":"t","filter":"_design"}""", "filter must be")]
    [InlineData("""{"source":"a","target":"t","doc_ids":[1]}""", "doc_ids must be")]
    [InlineData("""{"source":{"peer":"laptop","db":"a","prefix":"/../_config/"},"target":"t"}""", "prefix must be a path")]
    [InlineData("""["a","t"]""", "one JSON object")]
    [InlineData("""{"source":"a","target":"t"} {}""", "one JSON object")]
    public void RefusesWhatItCannotJudgeNamingWhy(string body, string reason)
    {
        Assert.Null(ReplicationRequest.Parse(Encoding.UTF8.GetBytes(body), out var error));
        Assert.Contains(reason, error, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("""{"_id":"other","source":"a","target":"t"}""", "_id must be the document id")]
    [InlineData("""{"_id":1,"source":"a","target":"t"}""", "_id must be the document id")]
    [InlineData("""{"_rev":"1-a","source":"a","target":"t"}""", "created once")]
    [InlineData("""{"_deleted":true,"source":"a","target":"t"}""", "deleted with DELETE")]
    [InlineData("""{"source":"a","target":"t","cancel":true}""", "cancelled by deleting it")]
    [InlineData("""{"source":"a","target":"t","gatehouse":{"creator":"x"}}""", "field gatehouse is not accepted")]
    public void RefusesAReplicatorDocumentItCannotJudge(string body, string reason)
    {
        Assert.Null(ReplicationRequest.ParseDocument(Encoding.UTF8.GetBytes(body), "job", out var error));
        Assert.Contains(reason, error, StringComparison.Ordinal);
    }

    [Fact]
    public void StoresAReplicatorDocumentWithItsCreatorAndItsEndsAsWritten()
    {
        var request = ReplicationRequest.ParseDocument(
            Encoding.UTF8.GetBytes("""{"_id":"job","source":{"peer":"laptop","db":"media-0"},"target":"copy-0","continuous":true}"""), "job", out var error);
        Assert.True(request is not null, error);

        using var json = JsonDocument.Parse(ReplicationBody.WriteDocument(request, Basic, "sha256//abc="));
        var root = json.RootElement;
        Assert.False(root.TryGetProperty("_id", out _));
        Assert.StartsWith("http://device:p%40ss%3Aw%2Frd@127.0.0.1:5984/", root.GetProperty("target").GetString(), StringComparison.Ordinal);
        Assert.Equal("device", root.GetProperty("user_ctx").GetProperty("name").GetString());
        Assert.Equal(0, root.GetProperty("user_ctx").GetProperty("roles").GetArrayLength());
        var mark = root.GetProperty(ReplicationBody.CreatorField);
        Assert.Equal("sha256//abc=", mark.GetProperty("creator").GetString());
        Assert.Equal("laptop", mark.GetProperty("source").GetProperty("peer").GetString());
        Assert.Equal("copy-0", mark.GetProperty("target").GetString());
    }

    [Fact]
    public void RebuildsTheBodyWithTheGatewaysUrlsAndTheRolesCredential()
    {
        var request = ReplicationRequest.Parse(
            """{"source":"media/0","target":{"peer":"laptop","db":"media-0"},"continuous":true,"doc_ids":["a","b"],"selector":{"n":{"$gt":1}},"since_seq":"3-x"}"""u8,
            out var error)!;
        Assert.Null(error);

        using var body = JsonDocument.Parse(ReplicationBody.Write(request, Basic));
        var root = body.RootElement;
        Assert.Equal("http://device:p%40ss%3Aw%2Frd@127.0.0.1:5984/media%2F0", root.GetProperty("source").GetString());
        Assert.Equal("http://127.0.0.1:5985/_peers/laptop/couch/media-0", root.GetProperty("target").GetString());
        Assert.True(root.GetProperty("continuous").GetBoolean());
        Assert.Equal(["a", "b"], root.GetProperty("doc_ids").EnumerateArray().Select(id => id.GetString()));
        Assert.Equal(1, root.GetProperty("selector").GetProperty("n").GetProperty("$gt").GetInt32());
        Assert.Equal("3-x", root.GetProperty("since_seq").GetString());
        Assert.Equal(["source", "target", "continuous", "doc_ids", "selector", "since_seq"], root.EnumerateObject().Select(p => p.Name));
    }

    [Fact]
    public void WithProxyAuthenticationALocalEndCarriesTheHeadersNotAPassword()
    {
        var upstream = Basic with { Password = null, Headers = [new("X-Auth-CouchDB-UserName", "device"), new("X-Auth-CouchDB-Token", "abc")] };
        var request = ReplicationRequest.Parse("""{"source":"a","target":"b"}"""u8, out _)!;

        using var body = JsonDocument.Parse(ReplicationBody.Write(request, upstream));
        var source = body.RootElement.GetProperty("source");
        Assert.Equal("http://127.0.0.1:5984/a", source.GetProperty("url").GetString());
        Assert.Equal("abc", source.GetProperty("headers").GetProperty("X-Auth-CouchDB-Token").GetString());
    }

    [Theory]
    [InlineData("""{"source":"a","target":"b"}""", false)]
    [InlineData("""{"source":"a","target":"b","filter":"app/odd"}""", true)]
    [InlineData("""{"source":"a","target":"b","filter":"_view"}""", true)]
    [InlineData("""{"source":"a","target":"b","filter":"_selector","selector":{}}""", false)]
    [InlineData("""{"source":"a","target":"b","filter":"_doc_ids","doc_ids":["x"]}""", false)]
    public void SaysWhetherItsFilterRunsDesignCode(string body, bool runsDesignCode)
    {
        var request = ReplicationRequest.Parse(Encoding.UTF8.GetBytes(body), out var error)!;
        Assert.Null(error);
        Assert.Equal(runsDesignCode, request.FilterRunsDesignCode);
    }
}
