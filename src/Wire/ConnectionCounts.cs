using System.Collections.Concurrent;

namespace Gatehouse.Wire;

/// <summary>
/// Open connections per key (a source address, a principal's pin), so one client cannot take
/// every slot of <see cref="WireLimits.MaxConnections"/> (issue 10: limits and fairness).
/// </summary>
internal sealed class ConnectionCounts
{
    private readonly ConcurrentDictionary<string, int> _counts = new(StringComparer.Ordinal);

    /// <summary>Counts one more connection for <paramref name="key"/> unless it already holds <paramref name="max"/>.</summary>
    public bool TryAcquire(string key, int max)
    {
        while (true)
        {
            var current = _counts.GetOrAdd(key, 0);
            if (current >= max)
            {
                return false;
            }

            if (_counts.TryUpdate(key, current + 1, current))
            {
                return true;
            }
        }
    }

    public void Release(string key)
    {
        while (true)
        {
            var current = _counts.GetValueOrDefault(key);
            if (current <= 1)
            {
                // Remove only if still 1, so an idle key does not linger; a concurrent acquire retries.
                if (current == 0 || _counts.TryRemove(new KeyValuePair<string, int>(key, 1)))
                {
                    return;
                }

                continue;
            }

            if (_counts.TryUpdate(key, current - 1, current))
            {
                return;
            }
        }
    }

    public int this[string key] => _counts.GetValueOrDefault(key);
}
