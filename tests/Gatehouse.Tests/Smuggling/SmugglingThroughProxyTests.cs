using System.Text;
using System.Text.Json;

namespace Gatehouse.Tests.Smuggling;

/// <summary>
/// Issue 10: every smuggling vector of ../shared/corpora/smuggling.jsonl and of our own
/// <see cref="HostileRequests"/> sent through the gateway to a recording backend. The backend
/// must receive exactly the messages the gateway judged ok, each with a single unambiguous
/// framing, and every hostile message gets a 4xx and a closed connection.
/// </summary>
public sealed class SmugglingThroughProxyTests : IClassFixture<SmuggleGateway>
{
    private static readonly Lazy<Dictionary<string, (byte[] Raw, string[] Expect)>> SharedCorpus = new(LoadShared);

    private readonly SmuggleGateway _gateway;

    public SmugglingThroughProxyTests(SmuggleGateway gateway)
    {
        _gateway = gateway;
    }

    public static TheoryData<string> SharedVectors() => [.. SharedCorpus.Value.Keys];

    public static TheoryData<string> OwnVectors() => [.. HostileRequests.All.Keys];

    [Fact]
    public void OurOwnCorpusHasAtLeastAHundredHostileRequests() => Assert.True(HostileRequests.All.Count >= 100, $"{HostileRequests.All.Count} vectors");

    [Theory]
    [MemberData(nameof(SharedVectors))]
    public async Task SharedVectorReachesTheBackendOnlyAsJudged(string name)
    {
        var (raw, expect) = SharedCorpus.Value[name];
        await CheckAsync(raw, expect);
    }

    [Theory]
    [MemberData(nameof(OwnVectors))]
    public async Task HostileRequestIsRefusedBeforeTheBackend(string name)
    {
        var (raw, expect) = HostileRequests.All[name];
        await CheckAsync(Encoding.Latin1.GetBytes(raw), expect);
    }

    private async Task CheckAsync(byte[] raw, string[] expect)
    {
        var incomplete = expect.Contains("incomplete");
        var before = _gateway.Backend.Requests.Count;
        var statuses = await _gateway.SendAsync(raw, endInput: !incomplete);
        var reached = _gateway.Backend.Requests.Skip(before).ToList();

        var okCount = expect.TakeWhile(v => v == "ok").Count();
        if (incomplete)
        {
            Assert.Empty(statuses);
            Assert.Empty(reached);
            return;
        }

        Assert.True(statuses.Count >= okCount, $"expected {string.Join(",", expect)}, got statuses {string.Join(",", statuses)}");
        Assert.All(statuses.Take(okCount), status => Assert.Equal(200, status));
        if (expect.Contains("reject"))
        {
            Assert.Equal(okCount + 1, statuses.Count);
            Assert.InRange(statuses[^1], 400, 505);
        }
        else
        {
            Assert.Equal(okCount, statuses.Count);
        }

        // "OPTIONS *" is about the gateway itself: answered there, never forwarded.
        var answeredByGateway = raw.AsSpan().StartsWith("OPTIONS * "u8) ? 1 : 0;
        Assert.Equal(okCount - answeredByGateway, reached.Count);
        foreach (var request in reached)
        {
            // One framing only, and never something the client tried to make us pass on.
            Assert.True(request.CountOf("Transfer-Encoding") + request.CountOf("Content-Length") <= 1, request.RequestLine);
            Assert.Equal(1, request.CountOf("Host"));
        }
    }

    private static Dictionary<string, (byte[], string[])> LoadShared()
    {
        var path = Path.Combine(PouchDbServer.RepositoryRoot, "..", "shared", "corpora", "smuggling.jsonl");
        if (!File.Exists(path))
        {
            throw new FileNotFoundException("the shared corpora must sit beside the repository (../shared/corpora)", path);
        }

        var vectors = new Dictionary<string, (byte[], string[])>();
        foreach (var line in File.ReadLines(path))
        {
            using var doc = JsonDocument.Parse(line);
            var root = doc.RootElement;
            var expect = root.TryGetProperty("expect_sequence", out var sequence)
                ? sequence.EnumerateArray().Select(e => e.GetString()!).ToArray()
                : [root.GetProperty("expect").GetString()!];
            vectors[root.GetProperty("name").GetString()!] = (Convert.FromBase64String(root.GetProperty("raw_base64").GetString()!), Deviations.Apply(root.GetProperty("name").GetString()!, expect));
        }

        return vectors;
    }

    /// <summary>Where we are deliberately stricter than a MAY/SHOULD of the corpus (same table as the Http1 corpus tests).</summary>
    private static class Deviations
    {
        private static readonly HashSet<string> StricterReject = ["rfc-cl-dup-same", "rfc-cl-list-same", "portswigger-CL-expect-obfs", "rfc-version-1.2"];

        public static string[] Apply(string name, string[] expect) => StricterReject.Contains(name) ? ["reject"] : expect;
    }
}
