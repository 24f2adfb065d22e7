using Gatehouse.Config;

namespace Gatehouse.Routing;

/// <summary>A mount point: requests whose first segments equal <see cref="PrefixSegments"/> belong to it.</summary>
public sealed class Route
{
    public Route(RouteKind kind, string prefix, RouteConfig? config = null)
    {
        Kind = kind;
        Prefix = prefix;
        PrefixSegments = prefix.Split('/', StringSplitOptions.RemoveEmptyEntries);
        Config = config;
        Name = config?.Name ?? prefix;
    }

    public RouteKind Kind { get; }

    public string Prefix { get; }

    public string Name { get; }

    public IReadOnlyList<string> PrefixSegments { get; }

    public RouteConfig? Config { get; }
}
