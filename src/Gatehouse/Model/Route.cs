using System.Text.RegularExpressions;
using Gatehouse.Config;
using Gatehouse.Http1;

namespace Gatehouse.Model;

/// <summary>
/// A mount point: requests whose first segments equal <see cref="PrefixSegments"/> belong to it,
/// narrowed by <see cref="Host"/> and, on proxy routes, by <see cref="PathRegex"/> (issue 5).
/// </summary>
public sealed class Route
{
    /// <summary>A configured route, as compiled.</summary>
    public Route(RouteSettings settings)
        : this((settings ?? throw new ArgumentNullException(nameof(settings))).Kind, settings.Prefix, settings.Config)
    {
        Stores = settings.Stores;
        UsersFile = settings.UsersFile;
        LocalUnrestricted = settings.LocalUnrestricted;
    }

    public Route(RouteKind kind, string prefix, RouteConfig? config = null)
    {
        Kind = kind;
        Prefix = prefix;
        PrefixSegments = prefix.Split('/', StringSplitOptions.RemoveEmptyEntries);
        Config = config;
        Host = config?.Match?.Host;
        if (config?.Match?.PathRegex is { } pattern)
        {
            PathRegex = new Regex(pattern, RegexOptions.CultureInvariant, RouteConfigRules.RegexTimeout);
        }

        // A regex route forwards the path unchanged; a prefix route strips its prefix unless told not to.
        StripPrefix = PathRegex is null && (config?.StripPrefix ?? true);
        Name = config?.Name ?? config?.Match?.PathRegex ?? prefix;
        RequestCounts = RouteRequestCounts.For(Name);
    }

    /// <summary>Where this route's answered requests are counted (the <c>route</c> tag of its metrics is its name).</summary>
    internal RouteRequestCounts RequestCounts { get; }

    public RouteKind Kind { get; }

    public string Prefix { get; }

    public string Name { get; }

    public IReadOnlyList<string> PrefixSegments { get; }

    public RouteConfig? Config { get; }

    /// <summary>A files route's store folders, full paths.</summary>
    public IReadOnlyList<string> Stores { get; } = [];

    /// <summary>A proxy route's <c>access.usersFile</c>, full path; null without one.</summary>
    public string? UsersFile { get; }

    /// <summary>The local listeners are unrestricted: the local user passes this proxy route's access check.</summary>
    public bool LocalUnrestricted { get; }

    /// <summary>The Host the request must name (any port when this has none), or null for any.</summary>
    public string? Host { get; }

    /// <summary>Matched against the canonical decoded path, with <see cref="RouteConfigRules.RegexTimeout"/>.</summary>
    public Regex? PathRegex { get; }

    /// <summary>Forward the path without <see cref="PrefixSegments"/>.</summary>
    public bool StripPrefix { get; }

    /// <summary>Segments removed from the path before forwarding.</summary>
    public int StrippedSegments => StripPrefix ? PrefixSegments.Count : 0;

    /// <summary>The request's decoded segments after this route's prefix: what a policy judges and a handler serves.</summary>
    public ReadOnlySpan<string> TailOf(Request request)
    {
        ArgumentNullException.ThrowIfNull(request);
        var segments = request.Target.SegmentSpan;
        return segments.Length > PrefixSegments.Count ? segments[PrefixSegments.Count..] : [];
    }

    /// <summary>True when the request's Host is the one this route serves.</summary>
    public bool MatchesHost(string requestHost)
    {
        if (Host is null)
        {
            return true;
        }

        if (string.Equals(Host, requestHost, StringComparison.OrdinalIgnoreCase))
        {
            return true;
        }

        // "blog.example" matches "blog.example:8443"; "[::1]" matches "[::1]:8443".
        return !HasPort(Host) && string.Equals(Host, WithoutPort(requestHost), StringComparison.OrdinalIgnoreCase);
    }

    /// <summary>The regex test; a match that runs out of time counts as no match (never a hung request).</summary>
    public bool MatchesPath(CanonicalTarget target)
    {
        if (PathRegex is null)
        {
            return true;
        }

        try
        {
            return PathRegex.IsMatch(target.Path);
        }
        catch (RegexMatchTimeoutException)
        {
            return false;
        }
    }

    private static bool HasPort(string host) => WithoutPort(host).Length != host.Length;

    private static string WithoutPort(string host)
    {
        var colon = host.LastIndexOf(':');
        var bracket = host.LastIndexOf(']');
        if (colon < 0 || colon < bracket)
        {
            return host;
        }

        // A bare IPv6 literal has colons but no brackets: it has no port.
        return host.StartsWith('[') || host.IndexOf(':') == colon ? host[..colon] : host;
    }
}
