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
/// each of its answers into it (issue 9): the fields list is refilled in place, and a field whose
/// bytes equal the previous answer's at the same position keeps the previous strings.
/// </summary>
internal sealed class UpstreamResponseHead
{
    public HttpVersion Version { get; private set; }

    public int StatusCode { get; private set; }

    /// <summary>This answer's fields only (the list is cut to them once the head is complete).</summary>
    public List<HeaderField> Headers { get; } = new(16);

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

    /// <summary>
    /// Puts field <paramref name="index"/> in place, taking the strings of the field that was there when
    /// the bytes match. Other names come from the process-wide <see cref="StringPool"/> (a new upstream
    /// connection's first answer then makes none); values never do: they may be secrets (Set-Cookie).
    /// </summary>
    internal HeaderField SetField(int index, ReadOnlySpan<byte> name, ReadOnlySpan<byte> value)
    {
        HeaderField field;
        if (index < Headers.Count)
        {
            var previous = Headers[index];
            field = new HeaderField(
                System.Text.Ascii.Equals(name, previous.Name) ? previous.Name : StringPool.Shared.GetOrAdd(name, Encoding.Latin1),
                System.Text.Ascii.Equals(value, previous.Value) ? previous.Value : Encoding.Latin1.GetString(value));
            Headers[index] = field;
        }
        else
        {
            field = new HeaderField(StringPool.Shared.GetOrAdd(name, Encoding.Latin1), Encoding.Latin1.GetString(value));
            Headers.Add(field);
        }

        return field;
    }

    /// <summary>Puts Connection token <paramref name="index"/> in place, keeping the string that was there when it matches.</summary>
    internal void SetConnectionToken(int index, ReadOnlySpan<char> token)
    {
        if (index < _connectionTokens.Count)
        {
            if (!token.SequenceEqual(_connectionTokens[index]))
            {
                _connectionTokens[index] = token.ToString();
            }
        }
        else
        {
            _connectionTokens.Add(token.ToString());
        }
    }

    /// <summary>
    /// Completes the head: fields beyond <paramref name="fieldCount"/> and Connection tokens beyond
    /// <paramref name="connectionTokenCount"/> (an older answer's) are dropped.
    /// </summary>
    internal void Complete(HttpVersion version, int status, int fieldCount, long contentLength, bool chunked, bool close, int connectionTokenCount)
    {
        Headers.RemoveRange(fieldCount, Headers.Count - fieldCount);
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
