namespace Gatehouse.Observability;

/// <summary>Discovery as the status shows it (issue 21): this device's name, whether it announces, and who is seen.</summary>
/// <param name="Dropped">Datagrams refused as malformed or over the rate since start.</param>
public sealed record DiscoveryStatus(string Name, bool Announcing, string? Error, IReadOnlyList<string> Interfaces, long Dropped, IReadOnlyList<SeenGatewayStatus> Seen);

/// <summary>A gateway seen on the link; <see cref="Peer"/> is its name in the peer table, null when not paired.</summary>
public sealed record SeenGatewayStatus(string Name, string Pin, IReadOnlyList<string> Addresses, DateTimeOffset LastSeen, string? Peer);
