using System.Text.Json;

namespace Gatehouse.WebSockets.Tests.Support;

/// <summary>
/// The shared WebSocket vectors (../shared/corpora/websocket.jsonl next to the repo: Autobahn
/// testsuite case definitions, Apache-2.0, plus RFC 6455 extras), read at test time.
/// </summary>
internal static class CorpusFile
{
    private static readonly Lazy<IReadOnlyDictionary<string, JsonElement>> Vectors = new(Load);

    public static string RepoRoot { get; } = FindRepoRoot();

    public static JsonElement Get(string name) => Vectors.Value[name];

    public static IEnumerable<string> Names(bool coreOnly) =>
        Vectors.Value.Where(v => !coreOnly || v.Value.GetProperty("core").GetBoolean()).Select(v => v.Key);

    private static Dictionary<string, JsonElement> Load()
    {
        var path = Path.GetFullPath(Path.Combine(RepoRoot, "..", "shared", "corpora", "websocket.jsonl"));
        if (!File.Exists(path))
        {
            throw new FileNotFoundException($"corpus file {path} is missing (expected ../shared/corpora/websocket.jsonl next to the repo)", path);
        }

        return File.ReadLines(path)
            .Where(l => !string.IsNullOrWhiteSpace(l))
            .Select(l => JsonDocument.Parse(l).RootElement.Clone())
            .ToDictionary(e => e.GetProperty("name").GetString()!, StringComparer.Ordinal);
    }

    private static string FindRepoRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "Gatehouse.slnx")))
            {
                return dir.FullName;
            }
        }

        throw new DirectoryNotFoundException($"no Gatehouse.slnx above {AppContext.BaseDirectory}");
    }
}
