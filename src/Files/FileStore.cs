using Microsoft.Win32.SafeHandles;

namespace Gatehouse.Files;

/// <summary>
/// The content-addressed store over one or more roots (issue 4). Creates <c>files/</c> and
/// <c>tmp/</c> under each root and removes temp files a crash left behind. Thread-safe: files are
/// immutable once in place, and every upload has its own temp file.
/// </summary>
public sealed class FileStore
{
    private readonly StoreRoot[] _roots;

    /// <summary>
    /// Held while a finished upload checks every root and renames into place. File.Move with
    /// overwrite: false is check-then-rename on Linux, so two uploads of one ID could both "create"
    /// it; one gateway owns the store, so an in-process lock makes the placement atomic.
    /// </summary>
    internal Lock PlacementLock { get; } = new();

    /// <exception cref="ArgumentException">No store root is configured.</exception>
    /// <exception cref="IOException">A root's folders cannot be created.</exception>
    public FileStore(FileStoreOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (options.StoreRoots is null || options.StoreRoots.Count == 0)
        {
            throw new ArgumentException("at least one store root is required", nameof(options));
        }

        if (options.MaxRanges < 1)
        {
            throw new ArgumentException("MaxRanges must be at least 1", nameof(options));
        }

        Options = options;
        _roots = [.. options.StoreRoots.Select(root => new StoreRoot(root))];
        foreach (var root in _roots)
        {
            StaleTempFilesRemoved += root.RemoveTempFiles();
        }
    }

    public FileStoreOptions Options { get; }

    /// <summary>Temp files found and removed when the store started.</summary>
    public int StaleTempFilesRemoved { get; }

    internal IReadOnlyList<StoreRoot> Roots => _roots;

    /// <summary>Free bytes at a path; a seam so tests can play a full disk. Defaults to the drive's available space.</summary>
    internal Func<string, long> AvailableBytes { get; set; } = static path => new DriveInfo(path).AvailableFreeSpace;

    /// <summary>
    /// Opens the file for streaming from the first root that holds it, or null when none does.
    /// FileShare.Delete lets a DELETE proceed while a download still reads.
    /// </summary>
    internal SafeFileHandle? TryOpen(string id, out long length)
    {
        foreach (var root in _roots)
        {
            try
            {
                var handle = File.OpenHandle(root.PathOf(id), FileMode.Open, FileAccess.Read, FileShare.Read | FileShare.Delete, FileOptions.Asynchronous | FileOptions.SequentialScan);
                length = RandomAccess.GetLength(handle);
                return handle;
            }
            catch (Exception ex) when (ex is FileNotFoundException or DirectoryNotFoundException)
            {
                // not in this root; try the next
            }
        }

        length = 0;
        return null;
    }

    internal bool Contains(string id) => _roots.Any(root => File.Exists(root.PathOf(id)));

    /// <summary>The first root whose disk has room for <paramref name="bytes"/>, or null (507).</summary>
    internal StoreRoot? RootWithRoomFor(long bytes)
    {
        foreach (var root in _roots)
        {
            try
            {
                if (AvailableBytes(root.TempPath) >= bytes)
                {
                    return root;
                }
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or ArgumentException)
            {
                // An unreadable drive is not one to write to.
            }
        }

        return null;
    }

    /// <summary>Removes the file from every root. True when at least one copy was there.</summary>
    internal bool Delete(string id)
    {
        var removed = false;
        foreach (var root in _roots)
        {
            var path = root.PathOf(id);
            if (File.Exists(path))
            {
                File.Delete(path);
                removed = true;
            }
        }

        return removed;
    }
}
