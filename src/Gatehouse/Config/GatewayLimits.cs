using Gatehouse.Http1;
using Gatehouse.Proxy;
using Gatehouse.Wire;

namespace Gatehouse.Config;

/// <summary>
/// The config's <c>"limits"</c> as each layer takes them (<see cref="LimitsBinder"/>): one flat
/// section for the user, one type per layer that reads it.
/// </summary>
public sealed class GatewayLimits
{
    /// <summary>Accept loop and TLS: connection counts, pending handshakes, handshake timeout, shutdown grace.</summary>
    public WireLimits Wire { get; init; } = new();

    /// <summary>HTTP/1.1 requests: sizes, counts and timeouts.</summary>
    public Http1Limits Http1 { get; init; } = new();

    /// <summary>Upstream connection pools and their shares.</summary>
    public UpstreamLimits Upstream { get; init; } = new();
}
