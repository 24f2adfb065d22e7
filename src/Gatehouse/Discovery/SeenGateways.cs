using System.Net;

namespace Gatehouse.Discovery;

/// <summary>A gateway seen on the link now: its announced name and pin, where it answers, and when it last spoke.</summary>
internal sealed record SeenGateway(string Name, string Pin, IReadOnlyList<IPEndPoint> Addresses, DateTimeOffset LastSeen);

/// <summary>
/// The gateways heard on the local link, keyed by pin (a name is only what a device says about itself;
/// the pin is what a peer link checks). Each address lives until its announced TTL runs out or a
/// goodbye withdraws it. Bounded, because anyone on the link can announce: at most
/// <see cref="MaxGateways"/> pins and <see cref="MaxAddressesPerGateway"/> addresses each; when
/// full, a new pin is dropped unless it is one the peer table knows (known peers are never crowded out).
/// </summary>
internal sealed class SeenGateways
{
    public const int MaxGateways = 256;
    public const int MaxAddressesPerGateway = 16;

    private readonly Lock _lock = new();
    private readonly Dictionary<string, Entry> _byPin = new(StringComparer.Ordinal);
    private readonly TimeProvider _time;

    public SeenGateways(TimeProvider? time = null) => _time = time ?? TimeProvider.System;

    /// <summary>Takes in one announcement heard on the link; a TTL of 0 withdraws the addresses it names.</summary>
    /// <param name="isKnown">Whether the pin is in the peer table, which lets it in when the table is full.</param>
    public void Record(Announcement announcement, Func<string, bool> isKnown)
    {
        var now = _time.GetUtcNow();
        lock (_lock)
        {
            Expire(now);
            if (!_byPin.TryGetValue(announcement.Pin, out var entry))
            {
                if (announcement.Ttl == 0 || announcement.Addresses.Count == 0)
                {
                    return;
                }

                if (_byPin.Count >= MaxGateways && !(isKnown(announcement.Pin) && EvictOneUnknown(isKnown)))
                {
                    return;
                }

                entry = new Entry();
                _byPin[announcement.Pin] = entry;
            }

            entry.Name = announcement.DeviceName;
            entry.LastSeen = now;
            foreach (var address in announcement.Addresses)
            {
                var endpoint = new IPEndPoint(address, announcement.Port);
                if (announcement.Ttl == 0)
                {
                    entry.Expiry.Remove(endpoint);
                }
                else if (entry.Expiry.ContainsKey(endpoint) || entry.Expiry.Count < MaxAddressesPerGateway)
                {
                    entry.Expiry[endpoint] = now.AddSeconds(announcement.Ttl);
                }
            }

            if (entry.Expiry.Count == 0)
            {
                _byPin.Remove(announcement.Pin);
            }
        }
    }

    /// <summary>Every gateway seen now, by name then pin.</summary>
    public IReadOnlyList<SeenGateway> Snapshot()
    {
        lock (_lock)
        {
            Expire(_time.GetUtcNow());
            return [.. _byPin.Select(pair => new SeenGateway(pair.Value.Name, pair.Key, Ordered(pair.Value), pair.Value.LastSeen))
                .OrderBy(g => g.Name, StringComparer.Ordinal).ThenBy(g => g.Pin, StringComparer.Ordinal)];
        }
    }

    /// <summary>Where the gateway with one of <paramref name="pins"/> answers now, most recently announced first.</summary>
    public IReadOnlyList<IPEndPoint> AddressesOf(IReadOnlyList<string> pins)
    {
        lock (_lock)
        {
            Expire(_time.GetUtcNow());
            return [.. pins.Where(_byPin.ContainsKey).SelectMany(pin => Ordered(_byPin[pin]))];
        }
    }

    private static List<IPEndPoint> Ordered(Entry entry) =>
        [.. entry.Expiry.OrderByDescending(pair => pair.Value).ThenBy(pair => pair.Key.ToString(), StringComparer.Ordinal).Select(pair => pair.Key)];

    private void Expire(DateTimeOffset now)
    {
        foreach (var (pin, entry) in _byPin.ToList())
        {
            foreach (var (endpoint, expiry) in entry.Expiry.ToList())
            {
                if (expiry <= now)
                {
                    entry.Expiry.Remove(endpoint);
                }
            }

            if (entry.Expiry.Count == 0)
            {
                _byPin.Remove(pin);
            }
        }
    }

    private bool EvictOneUnknown(Func<string, bool> isKnown)
    {
        var oldest = _byPin.Where(pair => !isKnown(pair.Key)).OrderBy(pair => pair.Value.LastSeen).Select(pair => pair.Key).FirstOrDefault();
        return oldest is not null && _byPin.Remove(oldest);
    }

    private sealed class Entry
    {
        public string Name { get; set; } = string.Empty;

        public DateTimeOffset LastSeen { get; set; }

        public Dictionary<IPEndPoint, DateTimeOffset> Expiry { get; } = [];
    }
}
