using System.Text;
using CommunityToolkit.HighPerformance.Buffers;
using Gatehouse.Http1;

namespace Gatehouse.Proxy;

/// <summary>How the upstream frames its answer's body (RFC 9112 §6.3).</summary>
internal enum UpstreamFraming
{
    /// <summary>No body: HEAD, 1xx, 204, 304.</summary>
    None,
    ContentLength,
    Chunked,

    /// <summary>Neither CL nor TE: the body runs until the upstream closes (never reusable).</summary>
    UntilClose,
}

/// <summary>
/// A parsed upstream status line and header block. An upstream connection keeps one and parses
/// each of its answers into it (issue 9). The fields are kept as the bytes they came in, copied
/// into a buffer the head keeps: they go to the client as bytes (ForwardOperation.CopyHead), and
/// become strings only for whoever asks for <see cref="Headers"/>, which is refilled in place,
/// keeping the previous answer's strings where the bytes match.
/// </summary>
internal sealed class UpstreamResponseHead
{
    /// <summary>A connection keeps a field buffer up to this size for its next answer; a bigger one goes.</summary>
    private const int KeptFieldBytes = 4 * 1024;

    private readonly List<HeaderField> _headers = new(16);
    private byte[] _fieldBytes = [];
    private int _fieldBytesUsed;
    private (int Start, int NameLength, int ValueLength)[] _fields = new (int, int, int)[16]; // the value follows the name
    private bool _headersCurrent;

    public HttpVersion Version { get; private set; }

    public int StatusCode { get; private set; }

    /// <summary>How many fields this answer has.</summary>
    public int FieldCount { get; private set; }

    /// <summary>This answer's fields as strings, made on first use after each answer.</summary>
    public List<HeaderField> Headers
    {
        get
        {
            if (!_headersCurrent)
            {
                for (var i = 0; i < FieldCount; i++)
                {
                    SetField(i, FieldName(i), FieldValue(i));
                }

                _headers.RemoveRange(FieldCount, _headers.Count - FieldCount);
                _headersCurrent = true;
            }

            return _headers;
        }
    }

    /// <summary>The single Content-Length, or -1.</summary>
    public long ContentLength { get; private set; } = -1;

    /// <summary>Transfer-Encoding: chunked was sent (and nothing else was: other codings are refused).</summary>
    public bool Chunked { get; private set; }

    /// <summary>The upstream will close after this answer (HTTP/1.0 without keep-alive, or Connection: close).</summary>
    public bool Close { get; private set; }

    /// <summary>The tokens of every Connection field: these names are hop-by-hop too (RFC 9110 §7.6.1).</summary>
    public IReadOnlyList<string> ConnectionTokens => _connectionTokens;

    // Kept across the connection's answers like Headers: most upstreams send "Connection: keep-alive"
    // on every answer, which would otherwise be a list and a string per request.
    private readonly List<string> _connectionTokens = [];

    /// <summary>Field <paramref name="index"/>'s name, as it came.</summary>
    public ReadOnlySpan<byte> FieldName(int index)
    {
        var field = _fields[index];
        return _fieldBytes.AsSpan(field.Start, field.NameLength);
    }

    /// <summary>Field <paramref name="index"/>'s value, as it came (without the whitespace around it).</summary>
    public ReadOnlySpan<byte> FieldValue(int index)
    {
        var field = _fields[index];
        return _fieldBytes.AsSpan(field.Start + field.NameLength, field.ValueLength);
    }

    /// <summary>Starts a new answer's fields (the parser calls it before the first).</summary>
    internal void BeginFields()
    {
        FieldCount = 0;
        _fieldBytesUsed = 0;
        _headersCurrent = false;
        if (_fieldBytes.Length > KeptFieldBytes)
        {
            _fieldBytes = [];
        }
    }

    /// <summary>Copies field number <see cref="FieldCount"/> in; the parser has checked its bytes.</summary>
    internal void AddField(ReadOnlySpan<byte> name, ReadOnlySpan<byte> value)
    {
        var size = name.Length + value.Length;
        if (_fieldBytes.Length - _fieldBytesUsed < size)
        {
            Array.Resize(ref _fieldBytes, Math.Max(_fieldBytesUsed + size, Math.Max(512, _fieldBytes.Length * 2)));
        }

        if (FieldCount == _fields.Length)
        {
            Array.Resize(ref _fields, _fields.Length * 2);
        }

        name.CopyTo(_fieldBytes.AsSpan(_fieldBytesUsed));
        value.CopyTo(_fieldBytes.AsSpan(_fieldBytesUsed + name.Length));
        _fields[FieldCount++] = (_fieldBytesUsed, name.Length, value.Length);
        _fieldBytesUsed += size;
    }

    /// <summary>
    /// Puts field <paramref name="index"/> in place, taking the strings of the field that was there when
    /// the bytes match. Other names come from the process-wide <see cref="StringPool"/> (a new upstream
    /// connection's first answer then makes none); values never do: they may be secrets (Set-Cookie).
    /// </summary>
    private void SetField(int index, ReadOnlySpan<byte> name, ReadOnlySpan<byte> value)
    {
        if (index < _headers.Count)
        {
            var previous = _headers[index];
            _headers[index] = new HeaderField(
                System.Text.Ascii.Equals(name, previous.Name) ? previous.Name : StringPool.Shared.GetOrAdd(name, Encoding.Latin1),
                System.Text.Ascii.Equals(value, previous.Value) ? previous.Value : Encoding.Latin1.GetString(value));
        }
        else
        {
            _headers.Add(new HeaderField(StringPool.Shared.GetOrAdd(name, Encoding.Latin1), Encoding.Latin1.GetString(value)));
        }
    }

    /// <summary>Puts Connection token <paramref name="index"/> in place, keeping the string that was there when it matches.</summary>
    internal void SetConnectionToken(int index, ReadOnlySpan<byte> token)
    {
        if (index < _connectionTokens.Count)
        {
            if (!System.Text.Ascii.Equals(token, _connectionTokens[index]))
            {
                _connectionTokens[index] = Encoding.Latin1.GetString(token);
            }
        }
        else
        {
            _connectionTokens.Add(Encoding.Latin1.GetString(token));
        }
    }

    /// <summary>
    /// Completes the head: Connection tokens beyond <paramref name="connectionTokenCount"/> (an older answer's) are dropped.
    /// </summary>
    internal void Complete(HttpVersion version, int status, long contentLength, bool chunked, bool close, int connectionTokenCount)
    {
        _connectionTokens.RemoveRange(connectionTokenCount, _connectionTokens.Count - connectionTokenCount);
        Version = version;
        StatusCode = status;
        ContentLength = contentLength;
        Chunked = chunked;
        Close = close;
    }

    public bool IsInterim => StatusCode is >= 100 and < 200;

    /// <summary>Where the body ends, given whether the request was HEAD (RFC 9112 §6.3 items 1-3, 6-8).</summary>
    public UpstreamFraming FramingFor(bool headRequest)
    {
        if (headRequest || IsInterim || StatusCode is 204 or 304)
        {
            return UpstreamFraming.None;
        }

        if (Chunked)
        {
            return UpstreamFraming.Chunked;
        }

        return ContentLength >= 0 ? UpstreamFraming.ContentLength : UpstreamFraming.UntilClose;
    }
}
