using System.Net;

namespace Gatehouse.Front;

/// <summary>
/// Failed Basic logins per source address (issue 5). After the first failure each further one
/// doubles the wait before the address may try again (1 s, 2 s, 4 s … up to <see cref="MaxDelay"/>);
/// attempts inside the wait are refused without checking the password, so guessing costs time
/// and the gateway no PBKDF2 work. A success clears the address; quiet addresses are forgotten.
/// The table is bounded: past <see cref="MaxAddresses"/> the stalest entries go first.
/// </summary>
internal sealed class LoginThrottle
{
    public static readonly TimeSpan MaxDelay = TimeSpan.FromMinutes(1);
    private const int MaxAddresses = 4096;
    private static readonly TimeSpan BaseDelay = TimeSpan.FromSeconds(1);
    private static readonly TimeSpan ForgetAfter = TimeSpan.FromMinutes(15);
    private readonly Dictionary<IPAddress, Entry> _entries = [];
    private readonly Lock _lock = new();
    private readonly TimeProvider _time;

    public LoginThrottle(TimeProvider? time = null)
    {
        _time = time ?? TimeProvider.System;
    }

    /// <summary>Zero when <paramref name="address"/> may try now, else how long it must wait.</summary>
    public TimeSpan RetryAfter(IPAddress address)
    {
        var now = _time.GetUtcNow();
        lock (_lock)
        {
            return _entries.TryGetValue(address, out var entry) && entry.LockedUntil > now ? entry.LockedUntil - now : TimeSpan.Zero;
        }
    }

    /// <summary>Records a failure; returns the failures in a row and the wait now imposed.</summary>
    public (int Failures, TimeSpan Delay) Fail(IPAddress address)
    {
        var now = _time.GetUtcNow();
        lock (_lock)
        {
            if (!_entries.TryGetValue(address, out var entry) || now - entry.LastFailure > ForgetAfter)
            {
                entry = new Entry();
                Prune(now);
            }

            entry.Failures++;
            entry.LastFailure = now;
            var delay = DelayAfter(entry.Failures);
            entry.LockedUntil = now + delay;
            _entries[address] = entry;
            return (entry.Failures, delay);
        }
    }

    public void Succeed(IPAddress address)
    {
        lock (_lock)
        {
            _entries.Remove(address);
        }
    }

    /// <summary>The first failure may be a typo: no wait. Then 1 s, doubling, capped.</summary>
    public static TimeSpan DelayAfter(int failures)
    {
        if (failures <= 1)
        {
            return TimeSpan.Zero;
        }

        var doublings = Math.Min(failures - 2, 16);
        var delay = BaseDelay * (1L << doublings);
        return delay < MaxDelay ? delay : MaxDelay;
    }

    private void Prune(DateTimeOffset now)
    {
        if (_entries.Count < MaxAddresses)
        {
            return;
        }

        foreach (var (address, entry) in _entries.Where(e => now - e.Value.LastFailure > ForgetAfter).ToList())
        {
            _entries.Remove(address);
        }

        if (_entries.Count >= MaxAddresses)
        {
            foreach (var address in _entries.OrderBy(e => e.Value.LastFailure).Take(_entries.Count / 4).Select(e => e.Key).ToList())
            {
                _entries.Remove(address);
            }
        }
    }

    private sealed class Entry
    {
        public int Failures { get; set; }

        public DateTimeOffset LastFailure { get; set; }

        public DateTimeOffset LockedUntil { get; set; }
    }
}
