using System.Buffers;
using System.Buffers.Text;
using System.Text;
using Gatehouse.Http1;

namespace Gatehouse.Proxy;

/// <summary>
/// Builds the upstream request head into a pooled buffer (one write with the first body bytes).
/// Every name and value is checked, so nothing a plan adds can split the request.
/// </summary>
/// <remarks>
/// Not HighPerformance's ArrayPoolBufferWriter: it hands arrays back to the pool uncleared when it grows
/// and when disposed, and cannot be used again after Dispose; this head carries the injected credential,
/// and one writer serves every head of an upstream connection.
/// </remarks>
internal sealed class RequestHeadWriter : IDisposable
{
    private ArrayPool<byte> _pool;
    private byte[] _buffer;
    private int _length;

    public RequestHeadWriter(ArrayPool<byte> pool, int initialSize = 2048)
    {
        _pool = pool;
        _buffer = pool.Rent(initialSize);
    }

    /// <summary>An idle writer, for <see cref="Begin"/>: an upstream connection keeps one for all its heads (issue 9).</summary>
    public RequestHeadWriter()
    {
        _pool = ArrayPool<byte>.Shared;
        _buffer = [];
    }

    /// <summary>Starts the next head in a buffer rented from <paramref name="pool"/>; <see cref="Dispose"/> gives it back.</summary>
    public RequestHeadWriter Begin(ArrayPool<byte> pool, int initialSize = 2048)
    {
        _pool = pool;
        _buffer = pool.Rent(initialSize);
        _length = 0;
        return this;
    }

    public ReadOnlyMemory<byte> Written => _buffer.AsMemory(0, _length);

    /// <summary>Throws <see cref="ArgumentException"/> unless <paramref name="target"/> is origin-form with RFC 3986 characters only.</summary>
    public static void ValidateTarget(string target)
    {
        if (target.Length == 0 || target[0] != '/' || target.AsSpan().IndexOfAnyExcept(HttpCharacters.TargetText) >= 0)
        {
            throw new ArgumentException($"forward target '{target}' is not origin-form", nameof(target));
        }
    }

    /// <summary>Throws <see cref="ArgumentException"/> for a name that is not a token or a value holding CR, LF, NUL or controls.</summary>
    public static void ValidateField(string name, string value)
    {
        foreach (var c in name)
        {
            if (c > 0x7F || !HttpCharacters.Token.Contains((byte)c))
            {
                throw new ArgumentException($"invalid header name '{name}'", nameof(name));
            }
        }

        if (name.Length == 0)
        {
            throw new ArgumentException("empty header name", nameof(name));
        }

        foreach (var c in value)
        {
            if (c > 0xFF || (c < 0x20 && c != '\t') || c == 0x7F)
            {
                throw new ArgumentException($"invalid byte in header '{name}'", nameof(value));
            }
        }
    }

    public void RequestLine(string method, string basePath, string target)
    {
        Latin1(method);
        Ascii(" "u8);
        Latin1(basePath);
        Latin1(target);
        Ascii(" HTTP/1.1\r\n"u8);
    }

    public void Field(string name, string value)
    {
        Latin1(name);
        Ascii(": "u8);
        Latin1(value);
        Ascii("\r\n"u8);
    }

    public void Field(string name, long value)
    {
        Latin1(name);
        Ascii(": "u8);
        var span = Reserve(20);
        Utf8Formatter.TryFormat(value, span, out var count);
        _length += count;
        Ascii("\r\n"u8);
    }

    public void EndOfHead() => Ascii("\r\n"u8);

    /// <summary>Appends raw bytes (the first body piece, already framed).</summary>
    public void Ascii(ReadOnlySpan<byte> bytes)
    {
        bytes.CopyTo(Reserve(bytes.Length));
        _length += bytes.Length;
    }

    public void Dispose()
    {
        // The head held the gateway's injected credential: clear it before the array is reused.
        _buffer.AsSpan(0, _length).Clear();
        if (_buffer.Length > 0)
        {
            _pool.Return(_buffer);
        }

        _buffer = [];
        _length = 0;
    }

    private void Latin1(string text)
    {
        var span = Reserve(text.Length);
        _length += Encoding.Latin1.GetBytes(text, span);
    }

    private Span<byte> Reserve(int count)
    {
        if (_buffer.Length - _length < count)
        {
            var bigger = _pool.Rent(Math.Max(_buffer.Length * 2, _length + count));
            _buffer.AsSpan(0, _length).CopyTo(bigger);
            _buffer.AsSpan(0, _length).Clear();
            _pool.Return(_buffer);
            _buffer = bigger;
        }

        return _buffer.AsSpan(_length);
    }
}
