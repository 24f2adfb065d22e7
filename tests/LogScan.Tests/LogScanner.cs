namespace Gatehouse.LogScan.Tests;

/// <summary>One secret found in one log line.</summary>
public sealed record LogFinding(string File, int Line, string SecretName);

/// <summary>Searches every line of every *.log file in a folder for any of a set of secrets (ordinal, exact bytes).</summary>
public static class LogScanner
{
    public static IReadOnlyList<LogFinding> Scan(string directory, IReadOnlyList<KeyValuePair<string, string>> secrets)
    {
        var findings = new List<LogFinding>();
        foreach (var file in Directory.EnumerateFiles(directory, "*.log").Order(StringComparer.Ordinal))
        {
            var number = 0;
            foreach (var line in ReadShared(file))
            {
                number++;
                foreach (var (name, value) in secrets)
                {
                    if (line.Contains(value, StringComparison.Ordinal))
                    {
                        findings.Add(new LogFinding(Path.GetFileName(file), number, name));
                    }
                }
            }
        }

        return findings;
    }

    /// <summary>How many lines the folder's logs hold, per source tag (the first word of each line).</summary>
    public static IReadOnlyDictionary<string, int> LinesBySource(string directory)
    {
        var counts = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var file in Directory.EnumerateFiles(directory, "*.log"))
        {
            foreach (var line in ReadShared(file))
            {
                var source = line.Split(' ', 2)[0];
                counts[source] = counts.GetValueOrDefault(source) + 1;
            }
        }

        return counts;
    }

    private static IEnumerable<string> ReadShared(string file)
    {
        using var stream = new FileStream(file, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
        using var reader = new StreamReader(stream);
        while (reader.ReadLine() is { } line)
        {
            yield return line;
        }
    }
}
