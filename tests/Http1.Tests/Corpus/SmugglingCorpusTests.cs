using System.Text.Json;

namespace Gatehouse.Http1.Tests.Corpus;

/// <summary>smuggling.jsonl: every request-smuggling and framing vector over a real socket.</summary>
public sealed class SmugglingCorpusTests(PlainServerFixture fixture) : IClassFixture<PlainServerFixture>
{
    /// <summary>
    /// Where we deliberately answer differently from the file: vector name, our verdict, and why.
    /// Each is a MAY/SHOULD latitude or an explicit policy of the issue; none is a MUST.
    /// </summary>
    internal static readonly Dictionary<string, (string[] Ours, string Why)> Deviations = new(StringComparer.Ordinal)
    {
        ["rfc-cl-dup-same"] = (["reject"], "MAY: identical duplicate Content-Length fields are refused too (issue: stricter than RFC 9110 §8.6)"),
        ["rfc-cl-list-same"] = (["reject"], "MAY: a Content-Length list \"5, 5\" is a duplicate in one field; refused like two fields"),
        ["portswigger-CL-expect-obfs"] = (["reject"], "MAY: an expectation other than 100-continue is answered 417 (RFC 9110 §10.1.1 allows it; issue policy)"),
        ["rfc-version-1.2"] = (["reject"], "SHOULD: HTTP/1.2 is answered 505, not served as 1.1 (issue: only 1.0 and 1.1 are served)"),
    };

    private static readonly Lazy<Dictionary<string, JsonElement>> Vectors = new(() =>
        CorpusFiles.Load("smuggling.jsonl").ToDictionary(v => v.GetProperty("name").GetString()!, StringComparer.Ordinal));

    public static TheoryData<string> Names => new(Vectors.Value.Keys);

    [Theory]
    [MemberData(nameof(Names))]
    public async Task AnswersTheVectorAsExpected(string name)
    {
        var vector = Vectors.Value[name];
        var raw = Convert.FromBase64String(vector.GetProperty("raw_base64").GetString()!);
        var expected = Deviations.TryGetValue(name, out var deviation)
            ? deviation.Ours
            : [.. vector.GetProperty("expect_sequence").EnumerateArray().Select(e => e.GetString()!)];
        await CorpusRunner.RunAsync(fixture.Server.Endpoint, raw, [.. expected.Select(CorpusRunner.Parse)], name);
    }

    [Fact]
    public void DeviatesOnlyFromVectorsThatExistAndAreNotMust()
    {
        foreach (var (name, _) in Deviations)
        {
            Assert.True(Vectors.Value.TryGetValue(name, out var vector), name + " is not in the corpus");
            Assert.NotEqual("MUST", vector.GetProperty("strength").GetString());
        }
    }
}
