using System.Collections;
using System.Text;

namespace Gatehouse.Http1;

/// <summary>
/// Response header fields in order. Framing headers (Content-Length, Transfer-Encoding, Connection, Date) are the writer's.
/// Fields come as strings (<see cref="Add(string, string)"/>) or as bytes (<see cref="Add(ReadOnlySpan{byte}, ReadOnlySpan{byte})"/>):
/// a backend's fields are copied as the lines the head will hold, neither decoded to strings nor
/// encoded back (issue 22). The head lists the string fields first, then the byte fields, each in
/// the order added; fields of one name keep their order when added the same way.
/// </summary>
public sealed class ResponseHeaders : IEnumerable<HeaderField>
{
    /// <summary>A pooled response keeps a lines buffer up to this size for the next answer; a bigger one goes.</summary>
    private const int KeptLinesCapacity = 4 * 1024;

    private readonly List<HeaderField> _fields = new(8);
    private byte[] _lines = [];   // "name: value\r\n" lines, checked when added
    private int _linesLength;
    private int _lineCount;

    public int Count => _fields.Count + _lineCount;

    /// <summary>The fields added as bytes, as lines ready for the head.</summary>
    internal ReadOnlySpan<byte> Lines => _lines.AsSpan(0, _linesLength);

    /// <summary>The fields added as strings, in order.</summary>
    internal List<HeaderField> TextFields => _fields;

    public void Add(string name, string value)
    {
        ValidateField(name, value);
        _fields.Add(new HeaderField(name, value));
    }

    /// <summary>
    /// Adds a field given as bytes (Latin-1), checked as <see cref="Add(string, string)"/> checks
    /// strings. A framing field is dropped here, as the writer drops one given as a string.
    /// </summary>
    public void Add(ReadOnlySpan<byte> name, ReadOnlySpan<byte> value)
    {
        if (name.IsEmpty || name.ContainsAnyExcept(HttpCharacters.Token))
        {
            throw new ArgumentException($"invalid response header name '{Encoding.Latin1.GetString(name)}'", nameof(name));
        }

        if (value.ContainsAnyExcept(HttpCharacters.FieldValue))
        {
            throw new ArgumentException($"invalid byte in response header '{Encoding.Latin1.GetString(name)}'", nameof(value));
        }

        if (IsFramingField(name))
        {
            return;
        }

        var size = name.Length + value.Length + 4;
        if (_lines.Length - _linesLength < size)
        {
            Array.Resize(ref _lines, Math.Max(_linesLength + size, Math.Max(256, _lines.Length * 2)));
        }

        var line = _lines.AsSpan(_linesLength, size);
        name.CopyTo(line);
        ": "u8.CopyTo(line[name.Length..]);
        value.CopyTo(line[(name.Length + 2)..]);
        "\r\n"u8.CopyTo(line[^2..]);
        _linesLength += size;
        _lineCount++;
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
        return RemoveLines(name) | removed > 0;
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

        var lines = Lines;
        while (!lines.IsEmpty)
        {
            var rest = NextLine(lines, out var fieldName, out var value);
            if (Ascii.EqualsIgnoreCase(fieldName, name))
            {
                return Encoding.Latin1.GetString(value);
            }

            lines = rest;
        }

        return null;
    }

    internal void Clear()
    {
        _fields.Clear();
        _linesLength = 0;
        _lineCount = 0;
        if (_lines.Length > KeptLinesCapacity)
        {
            _lines = [];
        }
    }

    /// <summary>Every field, the string ones first; a field added as bytes is made a string here (not on the hot path).</summary>
    public IEnumerator<HeaderField> GetEnumerator()
    {
        foreach (var field in _fields)
        {
            yield return field;
        }

        for (var at = 0; at < _linesLength;)
        {
            var rest = NextLine(_lines.AsSpan(at, _linesLength - at), out var name, out var value);
            var field = new HeaderField(Encoding.Latin1.GetString(name), Encoding.Latin1.GetString(value));
            at = _linesLength - rest.Length;
            yield return field;
        }
    }

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();

    /// <summary>The fields the writer frames itself: a handler's or a backend's are dropped.</summary>
    private static readonly string[] FramingFields =
        [KnownHeaderNames.ContentLength, KnownHeaderNames.TransferEncoding, KnownHeaderNames.Connection, KnownHeaderNames.Date];

    internal static bool IsFramingField(string name)
    {
        foreach (var framing in FramingFields)
        {
            if (name.Equals(framing, StringComparison.OrdinalIgnoreCase))
            {
                return true;
            }
        }

        return false;
    }

    internal static bool IsFramingField(ReadOnlySpan<byte> name)
    {
        foreach (var framing in FramingFields)
        {
            if (Ascii.EqualsIgnoreCase(name, framing))
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>The name and value of the first of <paramref name="lines"/>; returns the lines after it.</summary>
    private static ReadOnlySpan<byte> NextLine(ReadOnlySpan<byte> lines, out ReadOnlySpan<byte> name, out ReadOnlySpan<byte> value)
    {
        var end = lines.IndexOf("\r\n"u8);
        var line = lines[..end];
        var colon = line.IndexOf((byte)':');
        name = line[..colon];
        value = line[(colon + 2)..];
        return lines[(end + 2)..];
    }

    private bool RemoveLines(string name)
    {
        var removed = false;
        var kept = 0;
        for (var at = 0; at < _linesLength;)
        {
            var rest = NextLine(_lines.AsSpan(at, _linesLength - at), out var fieldName, out _);
            var next = _linesLength - rest.Length;
            if (Ascii.EqualsIgnoreCase(fieldName, name))
            {
                removed = true;
                _lineCount--;
            }
            else
            {
                _lines.AsSpan(at, next - at).CopyTo(_lines.AsSpan(kept));
                kept += next - at;
            }

            at = next;
        }

        _linesLength = kept;
        return removed;
    }

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
