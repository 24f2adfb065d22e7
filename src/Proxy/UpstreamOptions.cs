namespace Gatehouse.Proxy;

/// <summary>
/// Explicit settings of the upstream side (STYLE.md Forwarding: never framework defaults by
/// accident). Defaults are documented per property and in README.
/// </summary>
public sealed class UpstreamOptions
{
    /// <summary>TCP (or Unix socket) connect must finish within this time, else 504. Default 5 s.</summary>
    public TimeSpan ConnectTimeout { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>
    /// Time from the end of the request (body included) to the upstream's status line, else 504.
    /// Default 60 s. A long-poll <c>_changes</c> answers its head at once, so this does not cut it.
    /// </summary>
    public TimeSpan ResponseHeaderTimeout { get; set; } = TimeSpan.FromSeconds(60);

    /// <summary>
    /// Longest silence while streaming a body either way. Default 5 min: far above CouchDB's
    /// heartbeat (default 60 s), so a live continuous feed is never cut (issue 3).
    /// </summary>
    public TimeSpan IdleTimeout { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>A pooled keep-alive connection unused for this long is closed. Default 60 s.</summary>
    public TimeSpan PooledIdleTime { get; set; } = TimeSpan.FromSeconds(60);

    /// <summary>Connections open at once to one node (idle and busy); more requests wait in line. Default 64.</summary>
    public int MaxConnectionsPerNode { get; set; } = 64;

    /// <summary>A node that refused a connection is skipped for this long while another is healthy. Default 5 s.</summary>
    public TimeSpan NodeRetryAfter { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>
    /// Keep using the node that last answered, trying the others in their configured order only
    /// when it fails (a peer's addresses, issue 8: the first that answers wins and is kept).
    /// Default false: round-robin over healthy nodes (a CouchDB cluster).
    /// </summary>
    public bool PreferLastGoodNode { get; set; }

    /// <summary>Pools for the upstream connections' read buffers: the server's (<see cref="Wire.BufferPools.Shared"/> by default).</summary>
    public Wire.BufferPools Buffers { get; set; } = Wire.BufferPools.Shared;

    internal void Validate()
    {
        if (ConnectTimeout <= TimeSpan.Zero || ResponseHeaderTimeout <= TimeSpan.Zero || IdleTimeout <= TimeSpan.Zero
            || PooledIdleTime <= TimeSpan.Zero || NodeRetryAfter < TimeSpan.Zero)
        {
            throw new ArgumentException("upstream timeouts must be positive");
        }

        if (MaxConnectionsPerNode < 1)
        {
            throw new ArgumentException("MaxConnectionsPerNode must be at least 1");
        }
    }
}
