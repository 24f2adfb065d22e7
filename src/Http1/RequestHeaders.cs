using System.Collections;

namespace Gatehouse.Http1;

/// <summary>
/// The header fields of one request in arrival order. Names compare case-insensitively
/// (RFC 9110 §5.1); values are Latin-1 decoded so every received byte survives re-serialization.
/// </summary>
public sealed class RequestHeaders : IReadOnlyList<HeaderField>
{
    private readonly List<HeaderField> _fields = new(16);

    public int Count => _fields.Count;

    public HeaderField this[int index] => _fields[index];

    /// <summary>The single value of <paramref name="name"/>, or null when absent. Use <see cref="CountOf"/> to detect duplicates.</summary>
    public string? this[string name] => TryGetValue(name, out var value) ? value : null;

    public bool TryGetValue(string name, out string value)
    {
        foreach (var field in _fields)
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
        foreach (var field in _fields)
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
        foreach (var field in _fields)
        {
            if (string.Equals(field.Name, name, StringComparison.OrdinalIgnoreCase))
            {
                yield return field.Value;
            }
        }
    }

    /// <summary>True when any comma-separated element of any <paramref name="name"/> field equals <paramref name="token"/> (case-insensitive).</summary>
    public bool HasToken(string name, string token)
    {
        foreach (var field in _fields)
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

    internal void Add(string name, string value) => _fields.Add(new HeaderField(name, value));

    internal void Clear() => _fields.Clear();

    public IEnumerator<HeaderField> GetEnumerator() => _fields.GetEnumerator();

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();
}
