namespace Gatehouse.Wire;

/// <summary>
/// The limits of the accept loop and TLS: connection counts, pending handshakes, the handshake
/// timeout and the shutdown grace. Config may override any of them (<c>"limits": { ... }</c>, same
/// names in camelCase, beside the HTTP/1.1 and upstream ones); defaults are documented here and in README.
/// </summary>
public sealed class WireLimits
{
    /// <summary>TLS handshake must finish within this time, else the socket is closed. Default 10 s.</summary>
    public TimeSpan HandshakeTimeout { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>On shutdown, how long in-flight requests may take to finish (<see cref="WireServer.StopAsync"/>). Default 10 s.</summary>
    public TimeSpan ShutdownGrace { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>Connections open at once across all listeners; more are closed at accept. Default 10,000.</summary>
    public int MaxConnections { get; init; } = 10_000;

    /// <summary>Connections open at once from one source address; more are closed at accept. Default 1,000.</summary>
    public int MaxConnectionsPerAddress { get; init; } = 1_000;

    /// <summary>Connections open at once for one principal (key pin); more are closed after the handshake. Default 1,000.</summary>
    public int MaxConnectionsPerPrincipal { get; init; } = 1_000;

    /// <summary>
    /// TLS handshakes in progress at once. Default 256. When full, the oldest pending handshake is
    /// closed to make room for the new one: a flood of connections that never finish TLS cannot
    /// lock out a client that completes promptly (issue 10).
    /// </summary>
    public int MaxPendingHandshakes { get; init; } = 256;

    /// <summary>TLS handshakes in progress at once from one source address; more are closed at accept. Default 64.</summary>
    public int MaxPendingHandshakesPerAddress { get; init; } = 64;
}
