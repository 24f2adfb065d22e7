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

/// <summary>A parsed upstream status line and header block.</summary>
internal sealed class UpstreamResponseHead
{
    public required HttpVersion Version { get; init; }

    public required int StatusCode { get; init; }

    public required List<HeaderField> Headers { get; init; }

    /// <summary>The single Content-Length, or -1.</summary>
    public long ContentLength { get; init; } = -1;

    /// <summary>Transfer-Encoding: chunked was sent (and nothing else was: other codings are refused).</summary>
    public bool Chunked { get; init; }

    /// <summary>The upstream will close after this answer (HTTP/1.0 without keep-alive, or Connection: close).</summary>
    public bool Close { get; init; }

    /// <summary>The tokens of every Connection field: these names are hop-by-hop too (RFC 9110 §7.6.1).</summary>
    public required IReadOnlyList<string> ConnectionTokens { get; init; }

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
