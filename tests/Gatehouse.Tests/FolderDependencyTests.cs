using System.Text.RegularExpressions;

namespace Gatehouse.Tests;

/// <summary>
/// The executable's folders (namespaces follow folders) depend on each other in one direction
/// (issue 20 item 4; docs/executable-folders.md). A folder uses another when one of its files has a
/// <c>using Gatehouse.X</c> or names one of X's types qualified (<c>X.Type</c>, <c>Gatehouse.X.Type</c>);
/// comment lines do not count. Any cycle fails, named with the files that make each edge.
/// </summary>
public sealed partial class FolderDependencyTests
{
    private static readonly string Source = Path.Combine(PouchDbServer.RepositoryRoot, "src", "Gatehouse");

    [Fact]
    public void TheExecutablesFoldersHaveNoCycle()
    {
        var graph = FolderGraph.Read(Source);
        Assert.True(graph.Edges.Count > 10, $"read too few edges from {Source}: the reading is broken");
        var cycles = graph.Cycles();
        Assert.True(cycles.Count == 0, "folder cycles in src/Gatehouse:\n" + string.Join("\n", cycles.Select(c => $"{{{string.Join(", ", c.Folders)}}}: {graph.Describe(c.Cycle)}")));
    }

    [Fact]
    public void FindsACycleWhenThereIsOne()
    {
        var graph = new FolderGraph(new Dictionary<(string, string), SortedSet<string>>
        {
            [("A", "B")] = ["A/One.cs"],
            [("B", "C")] = ["B/Two.cs"],
            [("C", "A")] = ["C/Three.cs"],
            [("C", "D")] = ["C/Four.cs"],
        });
        var (folders, cycle) = Assert.Single(graph.Cycles());
        Assert.Equal(["A", "B", "C"], folders);
        Assert.Equal("A → B → C → A (A/One.cs; B/Two.cs; C/Three.cs)", graph.Describe(cycle));
    }

    /// <summary>Folder → folder edges, each with the files that make it.</summary>
    internal sealed partial class FolderGraph(Dictionary<(string From, string To), SortedSet<string>> edges)
    {
        public Dictionary<(string From, string To), SortedSet<string>> Edges { get; } = edges;

        public static FolderGraph Read(string source)
        {
            var folders = Directory.GetDirectories(source).Select(Path.GetFileName).OfType<string>()
                .Where(f => f is not ("bin" or "obj")).Order(StringComparer.Ordinal).ToList();
            var files = folders.ToDictionary(f => f, f => Directory.GetFiles(Path.Combine(source, f), "*.cs", SearchOption.AllDirectories)
                .Select(path => (Path: Path.GetRelativePath(source, path).Replace('\\', '/'), Code: Code(File.ReadAllText(path)))).ToList());
            var types = folders.ToDictionary(f => f, f => files[f].SelectMany(file => TypeDeclaration().Matches(file.Code).Select(m => m.Groups[1].Value)).ToHashSet(StringComparer.Ordinal));

            var edges = new Dictionary<(string, string), SortedSet<string>>();
            foreach (var from in folders)
            {
                foreach (var (path, code) in files[from])
                {
                    foreach (var to in folders.Where(to => to != from && Uses(code, to, types[to])))
                    {
                        (edges.TryGetValue((from, to), out var set) ? set : edges[(from, to)] = new SortedSet<string>(StringComparer.Ordinal)).Add(path);
                    }
                }
            }

            return new FolderGraph(edges);
        }

        /// <summary>Each group of folders that reach each other, with one shortest cycle through it.</summary>
        public List<(SortedSet<string> Folders, List<string> Cycle)> Cycles()
        {
            var next = Edges.Keys.GroupBy(e => e.From).ToDictionary(g => g.Key, g => g.Select(e => e.To).Order(StringComparer.Ordinal).ToList());
            var cycles = new List<(SortedSet<string>, List<string>)>();
            var seen = new HashSet<string>();
            foreach (var start in next.Keys.Order(StringComparer.Ordinal))
            {
                if (seen.Contains(start) || ShortestPath(next, start, start) is not { } cycle)
                {
                    continue;
                }

                // Every folder on a path back to start is in the same group: report the group once.
                var group = new SortedSet<string>(next.Keys.Where(f => ShortestPath(next, start, f) is not null && ShortestPath(next, f, start) is not null), StringComparer.Ordinal);
                seen.UnionWith(group);
                cycles.Add((group, cycle));
            }

            return cycles;
        }

        public string Describe(List<string> cycle) =>
            string.Join(" → ", cycle) + " (" + string.Join("; ", cycle.Zip(cycle.Skip(1)).Select(e => string.Join(", ", Edges[e]))) + ")";

        /// <summary>Breadth first from <paramref name="from"/> to <paramref name="to"/> (at least one step), both ends included.</summary>
        private static List<string>? ShortestPath(Dictionary<string, List<string>> next, string from, string to)
        {
            var cameFrom = new Dictionary<string, string>();
            var queue = new Queue<string>([from]);
            while (queue.TryDequeue(out var folder))
            {
                foreach (var step in next.GetValueOrDefault(folder) ?? [])
                {
                    if (step == to)
                    {
                        var path = new List<string> { to, folder };
                        for (var at = folder; at != from; at = cameFrom[at])
                        {
                            path.Add(cameFrom[at]);
                        }

                        path.Reverse();
                        return path;
                    }

                    if (step != from && cameFrom.TryAdd(step, folder))
                    {
                        queue.Enqueue(step);
                    }
                }
            }

            return null;
        }

        private static bool Uses(string code, string folder, HashSet<string> types) =>
            Regex.IsMatch(code, $@"^\s*(global\s+)?using\s+(static\s+)?(\w+\s*=\s*)?Gatehouse\.{folder}\b", RegexOptions.Multiline)
            || Regex.Matches(code, $@"(?<![\w.])(?:Gatehouse\.)?{folder}\.(\w+)").Any(m => types.Contains(m.Groups[1].Value))
            || Regex.IsMatch(code, $@"(?<![\w.])global::Gatehouse\.{folder}\.");

        /// <summary>The code without its comment lines (doc comments are not references: they are not compiled here).</summary>
        private static string Code(string text) => CommentLine().Replace(text, string.Empty);

        [GeneratedRegex(@"^\s*//.*$", RegexOptions.Multiline)]
        private static partial Regex CommentLine();

        [GeneratedRegex(@"\b(?:(?:class|struct|interface|enum|record)\s+(?!class\b|struct\b)|delegate\s+\S+\s+)(\w+)")]
        private static partial Regex TypeDeclaration();
    }
}
