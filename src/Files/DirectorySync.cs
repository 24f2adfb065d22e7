using System.Runtime.InteropServices;

namespace Gatehouse.Files;

/// <summary>
/// fsync of a directory, so a rename into it survives a power cut (the file's own fsync does not
/// cover its directory entry). .NET cannot open a directory as a file handle, hence libc.
/// Best effort: a failure is reported but the upload already succeeded from the client's view.
/// </summary>
internal static partial class DirectorySync
{
    private const int ReadOnly = 0;

    /// <summary>Flushes <paramref name="directory"/>'s entries to disk; false when that was not possible.</summary>
    public static bool TryFlush(string directory)
    {
        if (!OperatingSystem.IsLinux() && !OperatingSystem.IsMacOS())
        {
            return false; // Windows: NTFS journals metadata; nothing portable to call.
        }

        var fd = Native.Open(directory, ReadOnly);
        if (fd < 0)
        {
            return false;
        }

        try
        {
            return Native.Fsync(fd) == 0;
        }
        finally
        {
            _ = Native.Close(fd);
        }
    }

    private static class Native
    {
        [DllImport("libc", EntryPoint = "open", SetLastError = true, CharSet = CharSet.Ansi, BestFitMapping = false, ThrowOnUnmappableChar = true)]
        [DefaultDllImportSearchPaths(DllImportSearchPath.SafeDirectories)]
        public static extern int Open(string path, int flags);

        [DllImport("libc", EntryPoint = "fsync", SetLastError = true)]
        [DefaultDllImportSearchPaths(DllImportSearchPath.SafeDirectories)]
        public static extern int Fsync(int fd);

        [DllImport("libc", EntryPoint = "close", SetLastError = true)]
        [DefaultDllImportSearchPaths(DllImportSearchPath.SafeDirectories)]
        public static extern int Close(int fd);
    }
}
