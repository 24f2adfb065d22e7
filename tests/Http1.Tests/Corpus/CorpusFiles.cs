using System.Text.Json;

namespace Gatehouse.Http1.Tests.Corpus;

/// <summary>
/// The shared conformance vectors in ../shared/corpora (see its README), read at test time. The repo
/// root is the first folder above the test binary holding Gatehouse.slnx.
/// </summary>
internal static class CorpusFiles
{
    private static readonly Lazy<string> Folder = new(FindFolder);

    public static IReadOnlyList<JsonElement> Load(string fileName)
    {
        var path = Path.Combine(Folder.Value, fileName);
        if (!File.Exists(path))
        {
            throw new FileNotFoundException($"corpus file {path} is missing (expected the shared corpora next to the repo: ../shared/corpora/{fileName})", path);
        }

        return [.. File.ReadLines(path).Where(l => !string.IsNullOrWhiteSpace(l)).Select(l => JsonDocument.Parse(l).RootElement.Clone())];
    }

    private static string FindFolder()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "Gatehouse.slnx")))
            {
                var corpora = Path.GetFullPath(Path.Combine(dir.FullName, "..", "shared", "corpora"));
                if (!Directory.Exists(corpora))
                {
                    throw new DirectoryNotFoundException($"the corpus folder {corpora} is missing: the Http1 corpus tests read ../shared/corpora relative to the repo root {dir.FullName}");
                }

                return corpora;
            }
        }

        throw new DirectoryNotFoundException($"no Gatehouse.slnx above {AppContext.BaseDirectory}: cannot locate ../shared/corpora");
    }
}
