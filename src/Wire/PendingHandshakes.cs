using System.Net.Sockets;

namespace Gatehouse.Wire;

/// <summary>
/// TLS handshakes in progress, oldest first, with a count per source address (issue 10: handshake
/// floods). Fair under a flood of connections that never finish TLS: one address may hold at most
/// <see cref="WireLimits.MaxPendingHandshakesPerAddress"/> (more are closed at accept), and when all
/// <see cref="WireLimits.MaxPendingHandshakes"/> slots are taken the oldest pending handshake is closed
/// to make room, so a client that completes promptly still gets in — instead of every newcomer
/// being turned away until the flood's handshakes time out.
/// </summary>
internal sealed class PendingHandshakes
{
    private readonly Lock _lock = new();
    private readonly LinkedList<Entry> _oldestFirst = new();
    private readonly Dictionary<string, int> _perAddress = new(StringComparer.Ordinal);

    /// <summary>Handshakes in progress now.</summary>
    public int Count
    {
        get
        {
            lock (_lock)
            {
                return _oldestFirst.Count;
            }
        }
    }

    /// <summary>
    /// Registers a handshake from <paramref name="address"/>. Null when that address already holds
    /// <paramref name="maxPerAddress"/>. When <paramref name="max"/> are pending, the oldest is taken
    /// out and returned in <paramref name="evicted"/>: the caller closes its socket.
    /// </summary>
    public Entry? TryStart(string address, Socket socket, int max, int maxPerAddress, out Entry? evicted)
    {
        evicted = null;
        lock (_lock)
        {
            var fromAddress = _perAddress.GetValueOrDefault(address);
            if (fromAddress >= maxPerAddress)
            {
                return null;
            }

            if (_oldestFirst.Count >= max && _oldestFirst.First is { } oldest)
            {
                evicted = oldest.Value;
                RemoveLocked(evicted);
                fromAddress = _perAddress.GetValueOrDefault(address);
            }

            var entry = new Entry(address, socket);
            entry.Node = _oldestFirst.AddLast(entry);
            _perAddress[address] = fromAddress + 1;
            return entry;
        }
    }

    /// <summary>The handshake ended (done, failed or evicted); idempotent.</summary>
    public void Finish(Entry entry)
    {
        lock (_lock)
        {
            RemoveLocked(entry);
        }
    }

    private void RemoveLocked(Entry entry)
    {
        if (entry.Node is not { } node)
        {
            return;
        }

        _oldestFirst.Remove(node);
        entry.Node = null;
        var left = _perAddress[entry.Address] - 1;
        if (left == 0)
        {
            _perAddress.Remove(entry.Address);
        }
        else
        {
            _perAddress[entry.Address] = left;
        }
    }

    public sealed class Entry(string address, Socket socket)
    {
        public string Address { get; } = address;

        public Socket Socket { get; } = socket;

        /// <summary>Its place in the queue while pending; null once finished or evicted.</summary>
        internal LinkedListNode<Entry>? Node { get; set; }
    }
}
