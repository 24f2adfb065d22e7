using Gatehouse.Config;

namespace Gatehouse.Hosting;

/// <summary>A point-in-time view of a running gateway, for the status endpoint and embedding apps.</summary>
public sealed record GatehouseStatus(
    DateTimeOffset StartedAt,
    IReadOnlyList<ReadyEndpoint> Listeners,
    ReloadStatus? LastReload,
    int OpenConnections,
    IReadOnlyDictionary<string, int> ConnectionsByPrincipal);
