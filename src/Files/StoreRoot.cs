using System.Security.Cryptography;

namespace Gatehouse.Files;

/// <summary>
/// One store on disk: <c>files/&lt;2 hex&gt;/&lt;62 hex&gt;</c> for verified files and <c>tmp/</c> for uploads
/// in progress. Both live under the same root so the final rename stays on one filesystem (atomic).
/// </summary>
internal sealed class StoreRoot
{
    public StoreRoot(string root)
    {
        RootPath = Path.GetFullPath(root);
        FilesPath = Path.Join(RootPath, "files");
        TempPath = Path.Join(RootPath, "tmp");
        Directory.CreateDirectory(FilesPath);
        Directory.CreateDirectory(TempPath);
    }

    public string RootPath { get; }

    public string FilesPath { get; }

    public string TempPath { get; }

    /// <summary>The file's place; <paramref name="id"/> must already be a valid <see cref="FileId"/>.</summary>
    public string PathOf(string id) => Path.Join(FilesPath, id.AsSpan(0, 2), id.AsSpan(2));

    /// <summary>The fan-out folder of <paramref name="id"/> (<c>files/ab</c>).</summary>
    public string FolderOf(string id) => Path.Join(FilesPath, id.AsSpan(0, 2));

    /// <summary>A fresh, unguessable temp name; the ID prefix only helps a human reading tmp/.</summary>
    public string NewTempFile(string id) =>
        Path.Join(TempPath, $"{id}.{Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(8))}.part");

    /// <summary>
    /// Removes everything in tmp/: at start no upload is in progress, so whatever is there was left
    /// by a crash. (One store instance per root per process is assumed.)
    /// </summary>
    public int RemoveTempFiles()
    {
        var removed = 0;
        foreach (var path in Directory.EnumerateFiles(TempPath))
        {
            try
            {
                File.Delete(path);
                removed++;
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                // Another process may hold it on Windows; it will be retried at the next start.
            }
        }

        return removed;
    }
}
