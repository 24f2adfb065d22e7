namespace Gatehouse.Tests;

/// <summary>The process's open file descriptors that point into a folder (Linux: /proc/self/fd), to prove none leaked.</summary>
internal static class StoreHandles
{
    public static int Count(string root)
    {
        var prefix = Path.GetFullPath(root).TrimEnd('/') + "/";
        var count = 0;
        foreach (var fd in Directory.EnumerateFileSystemEntries("/proc/self/fd"))
        {
            string? target;
            try
            {
                target = new FileInfo(fd).LinkTarget;
            }
            catch (IOException)
            {
                continue; // closed while we looked
            }

            if (target is not null && target.StartsWith(prefix, StringComparison.Ordinal))
            {
                count++;
            }
        }

        return count;
    }
}
