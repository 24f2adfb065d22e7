namespace Gatehouse.Policy;

/// <summary>Database-name patterns of rules: exact names, with '*' standing for any run of characters ("novacut-0-*").</summary>
public static class DatabasePattern
{
    public static bool Matches(string pattern, string name) => Matches(pattern.AsSpan(), name.AsSpan());

    private static bool Matches(ReadOnlySpan<char> pattern, ReadOnlySpan<char> name)
    {
        var star = pattern.IndexOf('*');
        if (star < 0)
        {
            return pattern.SequenceEqual(name);
        }

        if (!name.StartsWith(pattern[..star]))
        {
            return false;
        }

        var rest = pattern[(star + 1)..];
        for (var i = star; i <= name.Length; i++)
        {
            if (Matches(rest, name[i..]))
            {
                return true;
            }
        }

        return false;
    }
}
