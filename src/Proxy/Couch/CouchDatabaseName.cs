using System.Buffers;

namespace Gatehouse.Proxy;

/// <summary>CouchDB's database-name rule: <c>^[a-z][a-z0-9_$()+/-]*$</c>.</summary>
public static class CouchDatabaseName
{
    private static readonly SearchValues<char> Tail = SearchValues.Create("abcdefghijklmnopqrstuvwxyz0123456789_$()+/-");

    /// <summary>CouchDB refuses longer names (couch_db:validate_dbname); so do we.</summary>
    private const int MaxLength = 238;

    public static bool IsValid(string name) =>
        name.Length is > 0 and <= MaxLength
        && name[0] is >= 'a' and <= 'z'
        && name.AsSpan(1).IndexOfAnyExcept(Tail) < 0;
}
