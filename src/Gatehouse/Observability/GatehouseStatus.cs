using Gatehouse.Config;

namespace Gatehouse.Observability;

/// <summary>A point-in-time view of a running gateway, for the status endpoint and embedding apps.</summary>
public sealed record GatehouseStatus(
    DateTimeOffset StartedAt,
    IReadOnlyList<ReadyEndpoint> Listeners,
    ReloadStatus? LastReload,
    int OpenConnections,
    IReadOnlyDictionary<string, int> ConnectionsByPrincipal)
{
    /// <summary>The server's key pin, which clients pin.</summary>
    public string Pin { get; init; } = string.Empty;

    /// <summary>Each route and who may use it (issue 19 item 5).</summary>
    public IReadOnlyList<RouteStatus> Routes { get; init; } = [];

    /// <summary>The last refused requests, newest first.</summary>
    public IReadOnlyList<RefusalStatus> Refusals { get; init; } = [];

    /// <summary>Discovery on the local link (issue 21); null when it is off.</summary>
    public DiscoveryStatus? Discovery { get; init; }
}

/// <summary>A route as a person reads it: kind, prefix and the grants that open it.</summary>
public sealed record RouteStatus(string Kind, string Prefix, string Name, IReadOnlyList<string> Grants);

/// <summary>One refused request: when, who, what (the path without its query) and why.</summary>
public sealed record RefusalStatus(DateTimeOffset Time, string Principal, string Method, string Path, int Status, string Reason);
