using System.Collections;

namespace Gatehouse.Http1;

/// <summary>Response header fields in order. Framing headers (Content-Length, Transfer-Encoding, Connection, Date) are the writer's.</summary>
public sealed class ResponseHeaders : IEnumerable<HeaderField>
{
    private readonly List<HeaderField> _fields = new(8);

    public int Count => _fields.Count;

    public void Add(string name, string value)
    {
        ValidateField(name, value);
        _fields.Add(new HeaderField(name, value));
    }

    /// <summary>Replaces every field named <paramref name="name"/> with one field.</summary>
    public void Set(string name, string value)
    {
        Remove(name);
        Add(name, value);
    }

    public bool Remove(string name)
    {
        // A loop, not RemoveAll with a lambda: that would allocate a closure on every Set.
        var kept = 0;
        for (var i = 0; i < _fields.Count; i++)
        {
            if (!string.Equals(_fields[i].Name, name, StringComparison.OrdinalIgnoreCase))
            {
                _fields[kept++] = _fields[i];
            }
        }

        var removed = _fields.Count - kept;
        _fields.RemoveRange(kept, removed);
        return removed > 0;
    }

    public string? Get(string name)
    {
        foreach (var field in _fields)
        {
            if (string.Equals(field.Name, name, StringComparison.OrdinalIgnoreCase))
            {
                return field.Value;
            }
        }

        return null;
    }

    internal void Clear() => _fields.Clear();

    /// <summary>A struct enumerator: writing the head walks the fields without allocating.</summary>
    public List<HeaderField>.Enumerator GetEnumerator() => _fields.GetEnumerator();

    IEnumerator<HeaderField> IEnumerable<HeaderField>.GetEnumerator() => GetEnumerator();

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();

    /// <summary>Response splitting guard: a name must be a token and a value must hold no CR, LF or NUL.</summary>
    private static void ValidateField(string name, string value)
    {
        if (name.Length == 0 || name.AsSpan().ContainsAnyExcept(HttpCharacters.TokenText))
        {
            throw new ArgumentException($"invalid response header name '{name}'", nameof(name));
        }

        if (value.AsSpan().ContainsAnyExcept(HttpCharacters.FieldValueText))
        {
            throw new ArgumentException($"invalid byte in response header '{name}'", nameof(value));
        }
    }
}
