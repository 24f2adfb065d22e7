namespace Gatehouse.Files;

/// <summary>
/// A file's ID is the lowercase hex SHA-256 of its bytes (issue 4). Only exactly 64 of [0-9a-f]
/// pass, so an ID can never hold a separator, a dot or an encoded trick: it is safe to join into a path.
/// </summary>
internal static class FileId
{
    public const int Length = 64;

    public static bool IsValid(string? id)
    {
        if (id is null || id.Length != Length)
        {
            return false;
        }

        foreach (var c in id)
        {
            if (c is not ((>= '0' and <= '9') or (>= 'a' and <= 'f')))
            {
                return false;
            }
        }

        return true;
    }
}
