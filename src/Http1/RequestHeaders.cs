using System.Collections;
using System.Text;

namespace Gatehouse.Http1;

/// <summary>
/// The header fields of one request in arrival order. Names compare case-insensitively
/// (RFC 9110 §5.1); values are Latin-1 decoded so every received byte survives re-serialization.
/// </summary>
/// <remarks>
/// A connection's parser keeps one instance for all its keep-alive requests (issue 9): between
/// requests it is reset to empty, never merged, so no field of one request is visible in the next.
/// While the next head is parsed, a field whose name and value bytes equal the previous request's
/// field at the same position takes the previous strings instead of decoding new ones: a client
/// sends the same Host, User-Agent, Accept… on every request, so those cost no allocation.
/// </remarks>
public sealed class RequestHeaders : IReadOnlyList<HeaderField>
{
    private HeaderField[] _fields = new HeaderField[16];
    private int _count;

    /// <summary>How many slots the request before the last reset filled (its strings may be taken again).</summary>
    private int _previousCount;

    public int Count => _count;

    public HeaderField this[int index] => (uint)index < (uint)_count ? _fields[index] : throw new ArgumentOutOfRangeException(nameof(index));

    /// <summary>The single value of <paramref name="name"/>, or null when absent. Use <see cref="CountOf"/> to detect duplicates.</summary>
    public string? this[string name] => TryGetValue(name, out var value) ? value : null;

    public bool TryGetValue(string name, out string value)
    {
        foreach (var field in this)
        {
            if (string.Equals(field.Name, name, StringComparison.OrdinalIgnoreCase))
            {
                value = field.Value;
                return true;
            }
        }

        value = string.Empty;
        return false;
    }

    public int CountOf(string name)
    {
        var count = 0;
        foreach (var field in this)
        {
            if (string.Equals(field.Name, name, StringComparison.OrdinalIgnoreCase))
            {
                count++;
            }
        }

        return count;
    }

    public bool Contains(string name) => CountOf(name) > 0;

    /// <summary>Every value of <paramref name="name"/>, in order.</summary>
    public IEnumerable<string> GetValues(string name)
    {
        for (var i = 0; i < _count; i++)
        {
            if (string.Equals(_fields[i].Name, name, StringComparison.OrdinalIgnoreCase))
            {
                yield return _fields[i].Value;
            }
        }
    }

    /// <summary>True when any comma-separated element of any <paramref name="name"/> field equals <paramref name="token"/> (case-insensitive).</summary>
    public bool HasToken(string name, string token)
    {
        foreach (var field in this)
        {
            if (!string.Equals(field.Name, name, StringComparison.OrdinalIgnoreCase))
            {
                continue;
            }

            foreach (var range in field.Value.AsSpan().Split(','))
            {
                if (field.Value.AsSpan(range).Trim(" \t").Equals(token, StringComparison.OrdinalIgnoreCase))
                {
                    return true;
                }
            }
        }

        return false;
    }

    internal void Add(string name, string value)
    {
        if (_count == _fields.Length)
        {
            Array.Resize(ref _fields, _fields.Length * 2);
        }

        _fields[_count++] = new HeaderField(name, value);
    }

    /// <summary>
    /// Adds a received field from its bytes (name a token, value already trimmed and checked),
    /// taking the previous request's strings when the bytes at this position are the same.
    /// </summary>
    internal void Add(ReadOnlySpan<byte> name, ReadOnlySpan<byte> value)
    {
        if (_count < _previousCount)
        {
            var previous = _fields[_count];
            if (Ascii.Equals(name, previous.Name) && Ascii.Equals(value, previous.Value))
            {
                _count++;
                return;
            }
        }

        Add(KnownHeaderNames.Intern(name), value.IsEmpty ? string.Empty : Encoding.Latin1.GetString(value));
    }

    /// <summary>Empties the list for the next request; the old strings stay only as candidates for reuse.</summary>
    internal void Clear()
    {
        // Slots the next request does not refill are dropped then (see TrimToCount), never shown.
        _previousCount = Math.Max(_count, _previousCount);
        _count = 0;
    }

    /// <summary>Once a head is complete: slots beyond it let go of the older request's strings.</summary>
    internal void TrimToCount()
    {
        if (_previousCount > _count)
        {
            Array.Clear(_fields, _count, _previousCount - _count);
        }

        _previousCount = 0;
    }

    /// <summary>A struct enumerator: foreach over the headers allocates nothing.</summary>
    public Enumerator GetEnumerator() => new(this);

    IEnumerator<HeaderField> IEnumerable<HeaderField>.GetEnumerator() => GetEnumerator();

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();

    public struct Enumerator : IEnumerator<HeaderField>
    {
        private readonly RequestHeaders _headers;
        private int _index;

        internal Enumerator(RequestHeaders headers)
        {
            _headers = headers;
            _index = -1;
        }

        public readonly HeaderField Current => _headers._fields[_index];

        readonly object IEnumerator.Current => Current;

        public bool MoveNext() => ++_index < _headers._count;

        public void Reset() => _index = -1;

        public readonly void Dispose()
        {
        }
    }
}
