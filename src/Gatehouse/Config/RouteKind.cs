namespace Gatehouse.Config;

/// <summary>What a route serves; the config names each kind (<see cref="RouteKindNames"/>), the gateway adds whoami.</summary>
public enum RouteKind
{
    WhoAmI,
    Files,
    CouchDb,
    Proxy,
    WebSocket,
}
