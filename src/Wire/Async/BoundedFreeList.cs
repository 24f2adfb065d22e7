using System.Diagnostics.CodeAnalysis;

namespace Gatehouse.Wire.Async;

/// <summary>
/// Free objects kept for reuse, behind a lock, up to a capacity: past it a returned object is left
/// to the GC, so a burst is not held forever. The pools of the hot path (async boxes, request parts
/// and pipes, handshake deadlines) share it; a lock is cheap next to what each reuse saves.
/// </summary>
public sealed class BoundedFreeList<T>(int capacity)
    where T : class
{
    private readonly Lock _lock = new();
    private readonly T?[] _items = new T?[capacity];
    private int _count;

    /// <summary>How many wait for reuse now.</summary>
    public int Count
    {
        get
        {
            lock (_lock)
            {
                return _count;
            }
        }
    }

    /// <summary>The most recently returned object, if any.</summary>
    public bool TryTake([NotNullWhen(true)] out T? item)
    {
        lock (_lock)
        {
            if (_count > 0)
            {
                item = _items[--_count]!;
                _items[_count] = null;
                return true;
            }
        }

        item = null;
        return false;
    }

    /// <summary>Keeps <paramref name="item"/> for reuse; false when full (the caller lets it go).</summary>
    public bool TryAdd(T item)
    {
        lock (_lock)
        {
            if (_count < _items.Length)
            {
                _items[_count++] = item;
                return true;
            }
        }

        return false;
    }
}
