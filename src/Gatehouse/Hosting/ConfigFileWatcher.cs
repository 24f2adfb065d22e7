using Microsoft.Extensions.Logging;

namespace Gatehouse.Hosting;

/// <summary>
/// Reloads when a file the config names changes (issue 7): the config file, the server certificate
/// and key, the CA certificates, the peer links' certificates and keys. Watches the folders that hold
/// them rather than the files, because editors and tools replace a file by writing another and
/// renaming it over (a watch on the old file would go with it). Changes are debounced, so a
/// certificate and key written one after the other, or an editor's save-and-rename, cause one reload.
/// </summary>
internal sealed partial class ConfigFileWatcher : IDisposable
{
    /// <summary>Quiet time after the last change before the reload: longer than a tool needs between a certificate and its key.</summary>
    public static readonly TimeSpan Debounce = TimeSpan.FromMilliseconds(300);

    private readonly Func<Task> _reload;
    private readonly ILogger _logger;
    private readonly Timer _debounce;
    private readonly Lock _lock = new();
    private readonly Dictionary<string, FileSystemWatcher> _byFolder = new(StringComparer.Ordinal);
    private HashSet<string> _files = new(StringComparer.Ordinal);
    private bool _disposed;

    public ConfigFileWatcher(Func<Task> reload, ILogger logger)
    {
        _reload = reload;
        _logger = logger;
        _debounce = new Timer(_ => Fire(), null, Timeout.Infinite, Timeout.Infinite);
    }

    /// <summary>The files watched now (full paths).</summary>
    public IReadOnlyCollection<string> Files => Volatile.Read(ref _files);

    /// <summary>Watches exactly <paramref name="files"/> from now on (a reload may name others); an empty list stops watching.</summary>
    public void Watch(IEnumerable<string> files)
    {
        lock (_lock)
        {
            if (_disposed)
            {
                return;
            }

            var wanted = new HashSet<string>(files.Select(Path.GetFullPath), StringComparer.Ordinal);
            var folders = wanted.Select(file => Path.GetDirectoryName(file)!).ToHashSet(StringComparer.Ordinal);
            foreach (var folder in _byFolder.Keys.Where(folder => !folders.Contains(folder)).ToList())
            {
                _byFolder[folder].Dispose();
                _byFolder.Remove(folder);
            }

            foreach (var folder in folders.Where(folder => !_byFolder.ContainsKey(folder)))
            {
                if (TryWatch(folder) is { } watcher)
                {
                    _byFolder[folder] = watcher;
                }
            }

            Volatile.Write(ref _files, wanted);
        }
    }

    public void Dispose()
    {
        lock (_lock)
        {
            _disposed = true;
            foreach (var watcher in _byFolder.Values)
            {
                watcher.Dispose();
            }

            _byFolder.Clear();
        }

        _debounce.Dispose();
    }

    private FileSystemWatcher? TryWatch(string folder)
    {
        try
        {
            var watcher = new FileSystemWatcher(folder)
            {
                NotifyFilter = NotifyFilters.FileName | NotifyFilters.LastWrite | NotifyFilters.Size | NotifyFilters.CreationTime,
                IncludeSubdirectories = false,
            };
            watcher.Changed += OnChanged;
            watcher.Created += OnChanged;
            watcher.Deleted += OnChanged;
            watcher.Renamed += OnChanged;
            watcher.Error += OnError;
            watcher.EnableRaisingEvents = true;
            return watcher;
        }
        catch (Exception ex) when (ex is ArgumentException or IOException or UnauthorizedAccessException or PlatformNotSupportedException)
        {
            // A folder that does not exist (yet) or cannot be watched: SIGHUP still reloads.
            LogCannotWatch(_logger, folder, ex.Message);
            return null;
        }
    }

    private void OnChanged(object sender, FileSystemEventArgs change)
    {
        var files = Volatile.Read(ref _files);
        if (files.Contains(change.FullPath) || (change is RenamedEventArgs renamed && files.Contains(renamed.OldFullPath)))
        {
            RestartQuietPeriod();
        }
    }

    /// <summary>Every change restarts the quiet period; the reload runs when it ends.</summary>
    private void RestartQuietPeriod()
    {
        lock (_lock)
        {
            if (!_disposed)
            {
                _debounce.Change(Debounce, Timeout.InfiniteTimeSpan);
            }
        }
    }

    private void OnError(object sender, ErrorEventArgs error)
    {
        // The kernel's queue overflowed: a change may have been missed, so reload to be sure.
        LogWatchError(_logger, error.GetException().Message);
        RestartQuietPeriod();
    }

    private void Fire()
    {
        lock (_lock)
        {
            if (_disposed)
            {
                return;
            }
        }

        _ = _reload();
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "cannot watch {Folder} for config changes ({Reason}); SIGHUP still reloads")]
    private static partial void LogCannotWatch(ILogger logger, string folder, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "file watch error ({Reason}); reloading to be sure")]
    private static partial void LogWatchError(ILogger logger, string reason);
}
