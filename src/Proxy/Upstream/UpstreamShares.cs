using System.Collections.Concurrent;

namespace Gatehouse.Proxy;

/// <summary>
/// Each principal's share of one upstream's connections (issue 18): no key can hold more than
/// <see cref="PerPrincipal"/> of them, and long-lived requests (feeds, longpolls, tunnels) together
/// hold at most <see cref="LongLived"/>, so the rest always serve short requests. A short request
/// past its key's share waits for one of that key's own to end (never for another key's); a
/// long-lived one past a limit is refused at once, since waiting would mean waiting for a feed to end.
/// </summary>
public sealed class UpstreamShares
{
    private readonly ConcurrentDictionary<string, SemaphoreSlim> _byKey = new(StringComparer.Ordinal);
    private int _longLived;

    /// <param name="perPrincipal">Connections one key may hold at once.</param>
    /// <param name="longLived">Connections all long-lived requests may hold at once.</param>
    public UpstreamShares(int perPrincipal, int longLived)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(perPrincipal, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(longLived, 1);
        PerPrincipal = perPrincipal;
        LongLived = longLived;
    }

    public int PerPrincipal { get; }

    public int LongLived { get; }

    /// <summary>Long-lived requests holding a connection now.</summary>
    public int LongLivedInUse => Volatile.Read(ref _longLived);

    /// <summary>
    /// Takes one of <paramref name="key"/>'s share. A short request waits up to <paramref name="wait"/>;
    /// a long-lived one does not wait. Returns the refusal reason, or null when entered (then call
    /// <see cref="Leave"/> exactly once).
    /// </summary>
    public async ValueTask<string?> EnterAsync(string key, bool longLived, TimeSpan wait, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(key);
        var slots = _byKey.GetOrAdd(key, static (_, size) => new SemaphoreSlim(size, size), PerPrincipal);
        if (longLived)
        {
            if (!slots.Wait(0, CancellationToken.None))
            {
                return $"this key already holds its {PerPrincipal} connections to the upstream";
            }

            if (Interlocked.Increment(ref _longLived) > LongLived)
            {
                Interlocked.Decrement(ref _longLived);
                slots.Release();
                return $"{LongLived} long-lived requests (feeds, tunnels) already hold connections to the upstream";
            }

            return null;
        }

        if (slots.Wait(0, CancellationToken.None) || await slots.WaitAsync(wait, cancellationToken).ConfigureAwait(false))
        {
            return null;
        }

        return $"this key's {PerPrincipal} connections to the upstream stayed busy for {wait.TotalSeconds:0.#} s";
    }

    /// <summary>Gives back what <see cref="EnterAsync"/> took.</summary>
    public void Leave(string key, bool longLived)
    {
        if (longLived)
        {
            Interlocked.Decrement(ref _longLived);
        }

        if (_byKey.TryGetValue(key, out var slots))
        {
            slots.Release();
        }
    }
}
