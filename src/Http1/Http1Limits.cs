namespace Gatehouse.Http1;

/// <summary>
/// The limits of the HTTP/1.1 layer: request line, header block, body, chunk overhead, requests per
/// connection and the timeouts between and within requests. Config may override any of them
/// (<c>"limits": { ... }</c>, same names in camelCase); defaults are documented here and in README.
/// </summary>
public sealed class Http1Limits
{
    /// <summary>Time a kept-alive connection may sit between requests. Default 120 s.</summary>
    public TimeSpan KeepAliveTimeout { get; init; } = TimeSpan.FromSeconds(120);

    /// <summary>Time from the first byte of a request to the end of its header block. Default 30 s.</summary>
    public TimeSpan HeaderTimeout { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>Longest silence while reading a request body. Default 60 s.</summary>
    public TimeSpan BodyIdleTimeout { get; init; } = TimeSpan.FromSeconds(60);

    /// <summary>Request line length (method, target, version). Default 8 KiB; longer answers 414.</summary>
    public int MaxRequestLineBytes { get; init; } = 8 * 1024;

    /// <summary>Whole header block, request line excluded. Default 32 KiB; larger answers 431.</summary>
    public int MaxHeaderBytes { get; init; } = 32 * 1024;

    /// <summary>Number of header fields. Default 100; more answers 431.</summary>
    public int MaxHeaderCount { get; init; } = 100;

    /// <summary>
    /// Largest request body the HTTP layer accepts at all. Default 64 GiB: media files and
    /// CouchDB attachments are large; routes enforce their own tighter limits (the file store's
    /// MaxUploadBytes). Larger answers 413.
    /// </summary>
    public long MaxRequestBodyBytes { get; init; } = 64L << 30;

    /// <summary>Chunk extension and trailer budget per chunked body. Default 8 KiB.</summary>
    public int MaxChunkOverheadBytes { get; init; } = 8 * 1024;

    /// <summary>Requests served on one connection before it is closed. Default 10,000.</summary>
    public int MaxRequestsPerConnection { get; init; } = 10_000;
}
