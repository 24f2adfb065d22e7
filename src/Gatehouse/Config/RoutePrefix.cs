namespace Gatehouse.Config;

/// <summary>
/// The path prefix a route serves, worked out from what the config wrote (issue 5): <c>prefix</c> or
/// its long form <c>match.pathPrefix</c>; "/" for a regex route and for a host with no prefix.
/// </summary>
public static class RoutePrefix
{
    public static string Of(RouteConfig route)
    {
        ArgumentNullException.ThrowIfNull(route);
        var prefix = route.Prefix;
        if (route.Match?.PathPrefix is { } pathPrefix)
        {
            prefix = pathPrefix;
        }

        if (route.Match?.PathRegex is not null)
        {
            prefix = "/";
        }

        if (route.Match?.Host is not null && prefix.Length == 0)
        {
            prefix = "/"; // a host alone takes every path
        }

        return prefix;
    }
}
