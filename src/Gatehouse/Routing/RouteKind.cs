namespace Gatehouse.Routing;

public enum RouteKind
{
    WhoAmI,
    Files,
    CouchDb,
    Proxy,
    WebSocket,
}
