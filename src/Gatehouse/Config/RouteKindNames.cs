namespace Gatehouse.Config;

/// <summary>The name the config (and the status page) gives each <see cref="RouteKind"/>.</summary>
internal static class RouteKindNames
{
    private static readonly (RouteKind Kind, string Name)[] Configurable =
    [
        (RouteKind.Files, "files"),
        (RouteKind.CouchDb, "couchdb"),
        (RouteKind.Proxy, "proxy"),
        (RouteKind.WebSocket, "websocket"),
    ];

    /// <summary>The values of a route's <c>kind</c> in the config.</summary>
    public static IReadOnlyList<string> ConfigNames { get; } = [.. Configurable.Select(kind => kind.Name)];

    /// <summary>The kind a config names; null for a name no kind has.</summary>
    public static RouteKind? Parse(string name)
    {
        foreach (var (kind, known) in Configurable)
        {
            if (string.Equals(known, name, StringComparison.Ordinal))
            {
                return kind;
            }
        }

        return null;
    }

    /// <summary>The name of <paramref name="kind"/> as the config and the status page spell it.</summary>
    public static string NameOf(RouteKind kind) =>
        kind == RouteKind.WhoAmI ? "whoami" : Configurable.First(entry => entry.Kind == kind).Name;
}
