namespace Gatehouse.Wire;

/// <summary>
/// Every limit and timeout of the gate in one place, with the defaults documented here
/// and in README. Config may override any of them (<c>"limits": { ... }</c>, same names in camelCase).
/// </summary>
public sealed class Limits
{
    /// <summary>TLS handshake must finish within this time, else the socket is closed. Default 10 s.</summary>
    public TimeSpan HandshakeTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>Time a kept-alive connection may sit between requests. Default 120 s.</summary>
    public TimeSpan KeepAliveTimeout { get; set; } = TimeSpan.FromSeconds(120);

    /// <summary>Time from the first byte of a request to the end of its header block. Default 30 s.</summary>
    public TimeSpan HeaderTimeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>Longest silence while reading a request body. Default 60 s.</summary>
    public TimeSpan BodyIdleTimeout { get; set; } = TimeSpan.FromSeconds(60);

    /// <summary>On shutdown, how long in-flight requests may take to finish. Default 10 s.</summary>
    public TimeSpan ShutdownGrace { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>Connections open at once across all listeners; more are closed at accept. Default 10,000.</summary>
    public int MaxConnections { get; set; } = 10_000;

    /// <summary>Connections open at once from one source address; more are closed at accept. Default 1,000.</summary>
    public int MaxConnectionsPerAddress { get; set; } = 1_000;

    /// <summary>Connections open at once for one principal (key pin); more are closed after the handshake. Default 1,000.</summary>
    public int MaxConnectionsPerPrincipal { get; set; } = 1_000;

    /// <summary>Connections open at once to one upstream node (a CouchDB node, a proxied app); more requests wait. Default 64.</summary>
    public int MaxUpstreamConnectionsPerNode { get; set; } = 64;

    /// <summary>
    /// Connections to each node of a CouchDB route one key may hold at once (issue 18); past it a short
    /// request waits for one of its own, a feed gets 429. Default 16, a quarter of the default pool.
    /// </summary>
    public int UpstreamConnectionsPerPrincipal { get; set; } = 16;

    /// <summary>
    /// Connections to each node of a CouchDB route that long-lived requests (continuous, longpoll and
    /// eventsource feeds) may hold at once, over all keys; past it 429. Default 32, half the default pool.
    /// </summary>
    public int LongLivedUpstreamConnections { get; set; } = 32;

    /// <summary>
    /// TLS handshakes in progress at once. Default 256. When full, the oldest pending handshake is
    /// closed to make room for the new one: a flood of connections that never finish TLS cannot
    /// lock out a client that completes promptly (issue 10).
    /// </summary>
    public int MaxPendingHandshakes { get; set; } = 256;

    /// <summary>TLS handshakes in progress at once from one source address; more are closed at accept. Default 64.</summary>
    public int MaxPendingHandshakesPerAddress { get; set; } = 64;

    /// <summary>Request line length (method, target, version). Default 8 KiB; longer answers 414.</summary>
    public int MaxRequestLineBytes { get; set; } = 8 * 1024;

    /// <summary>Whole header block, request line excluded. Default 32 KiB; larger answers 431.</summary>
    public int MaxHeaderBytes { get; set; } = 32 * 1024;

    /// <summary>Number of header fields. Default 100; more answers 431.</summary>
    public int MaxHeaderCount { get; set; } = 100;

    /// <summary>
    /// Largest request body the HTTP layer accepts at all. Default 64 GiB: media files and
    /// CouchDB attachments are large; routes enforce their own tighter limits (the file store's
    /// MaxUploadBytes). Larger answers 413.
    /// </summary>
    public long MaxRequestBodyBytes { get; set; } = 64L << 30;

    /// <summary>Chunk extension and trailer budget per chunked body. Default 8 KiB.</summary>
    public int MaxChunkOverheadBytes { get; set; } = 8 * 1024;

    /// <summary>Requests served on one connection before it is closed. Default 10,000.</summary>
    public int MaxRequestsPerConnection { get; set; } = 10_000;
}
