using Gatehouse.Config;
using Gatehouse.Http1;

namespace Gatehouse.Model;

/// <summary>
/// The routes of a config in order; the first whose host, prefix and regex all match the
/// canonical request wins (issue 5).
/// </summary>
public sealed class RouteTable
{
    public const string WhoAmIPath = "/_gatehouse/whoami";

    private readonly List<Route> _routes;

    public RouteTable(IEnumerable<RouteSettings> routes)
    {
        _routes = [new Route(RouteKind.WhoAmI, WhoAmIPath)];
        _routes.AddRange(routes.Select(route => new Route(route)));
    }

    public IReadOnlyList<Route> Routes => _routes;

    public Route? Match(Request request)
    {
        var target = request.Target;
        if (target.IsAsterisk)
        {
            return null;
        }

        foreach (var route in _routes)
        {
            if (!target.StartsWith(route.PrefixSegments) || !route.MatchesHost(request.Host) || !route.MatchesPath(target))
            {
                continue;
            }

            if (route.Kind == RouteKind.WhoAmI && target.Segments.Count != route.PrefixSegments.Count)
            {
                continue;
            }

            return route;
        }

        return null;
    }
}
