using Gatehouse.Config;

namespace Gatehouse.Front;

/// <summary>
/// The users of a route's Basic login, one <see cref="PasswordHash"/> line each ('#' comments and
/// blank lines allowed). Read at startup (errors are config errors); re-read when the file
/// changes, at most once a second, so `gatehouse passwd` takes effect without a restart.
/// A broken edit keeps the last good users and is logged by the caller.
/// </summary>
internal sealed class UsersFile
{
    private static readonly TimeSpan CheckEvery = TimeSpan.FromSeconds(1);
    private readonly Lock _lock = new();
    private Dictionary<string, PasswordHash> _users;
    private DateTime _writeTime;
    private long _checkedAt;

    public UsersFile(string path)
    {
        Path = path;
        _writeTime = File.GetLastWriteTimeUtc(path);
        try
        {
            _users = Read(path);
        }
        catch (Exception ex) when (ex is FormatException or IOException or UnauthorizedAccessException)
        {
            throw new ConfigException(ex.Message, ex);
        }

        _checkedAt = Environment.TickCount64;
    }

    public string Path { get; }

    /// <summary>Bumped on every successful re-read: cached logins of an older version are void.</summary>
    public int Version { get; private set; }

    /// <summary>Set when the last re-read failed (for the log), cleared by a good one.</summary>
    public string? LastError { get; private set; }

    public PasswordHash? Find(string user)
    {
        Refresh();
        lock (_lock)
        {
            return _users.GetValueOrDefault(user);
        }
    }

    /// <summary>Parses a whole file; the message names the file and line, never a hash.</summary>
    public static Dictionary<string, PasswordHash> Read(string path)
    {
        var users = new Dictionary<string, PasswordHash>(StringComparer.Ordinal);
        var number = 0;
        foreach (var raw in File.ReadLines(path))
        {
            number++;
            var line = raw.Trim();
            if (line.Length == 0 || line.StartsWith('#'))
            {
                continue;
            }

            try
            {
                var entry = PasswordHash.Parse(line);
                if (!users.TryAdd(entry.User, entry))
                {
                    throw new FormatException($"user \"{entry.User}\" appears twice");
                }
            }
            catch (FormatException ex)
            {
                throw new FormatException($"{path}:{number}: {ex.Message}", ex);
            }
        }

        return users;
    }

    /// <summary>Re-reads the file if it changed (checked at most once a second).</summary>
    public void Refresh()
    {
        var now = Environment.TickCount64;
        lock (_lock)
        {
            if (now - _checkedAt < CheckEvery.TotalMilliseconds)
            {
                return;
            }

            _checkedAt = now;
        }

        try
        {
            var writeTime = File.GetLastWriteTimeUtc(Path);
            if (writeTime == _writeTime)
            {
                return;
            }

            var users = Read(Path);
            lock (_lock)
            {
                _users = users;
                _writeTime = writeTime;
                Version++;
                LastError = null;
            }
        }
        catch (Exception ex) when (ex is FormatException or IOException or UnauthorizedAccessException)
        {
            LastError = ex.Message;
        }
    }
}
