using Gatehouse.Config;
using Gatehouse.Front;
using Gatehouse.Hosting;
using Gatehouse.Routing;
using Microsoft.Extensions.Logging.Abstractions;

namespace Gatehouse.Tests;

/// <summary>
/// What a reload hands over between route generations (issue 7): a route whose config is unchanged
/// keeps its handler (its upstream pool and the tunnels on it), a changed or removed one gets closed.
/// </summary>
public sealed class RouteGenerationTests
{
    private const string Blog = """{ "kind": "proxy", "prefix": "/blog/", "backend": "http://127.0.0.1:4334" }""";
    private const string Wiki = """{ "kind": "proxy", "prefix": "/wiki/", "backend": "http://127.0.0.1:4335" }""";

    [Fact]
    public async Task AnUnchangedRouteKeepsItsHandlerAndAChangedOneIsHandedBackForClosing()
    {
        using var dir = new TempDirectory();
        var first = Build(dir, [Blog, Wiki], previous: null);
        var moved = Wiki.Replace("4335", "4336", StringComparison.Ordinal);

        var second = Build(dir, [Blog, moved, """{ "kind": "proxy", "prefix": "/new/", "backend": "http://127.0.0.1:4337" }"""], first);

        Assert.Same(Handler(first, "/blog/"), Handler(second, "/blog/"));
        Assert.NotSame(Handler(first, "/wiki/"), Handler(second, "/wiki/"));
        // Only the changed route's old handler is the reload's to close; the shared one must stay open.
        Assert.Same(Handler(first, "/wiki/"), Assert.Single(first.HandlersNotIn(second)));
        foreach (var handler in second.HandlersNotIn(null).Concat(first.HandlersNotIn(second)))
        {
            await handler.DisposeAsync();
        }
    }

    [Fact]
    public void AWebSocketRouteWithoutAHandlerFailsTheBuild()
    {
        using var dir = new TempDirectory();
        var error = Assert.Throws<ConfigException>(() => Build(dir, [Blog, """{ "kind": "websocket", "prefix": "/feed/", "name": "feed" }"""], previous: null));
        Assert.Contains("websocket route \"feed\" has no handler", error.Message, StringComparison.Ordinal);
    }

    private static RouteGeneration Build(TempDirectory dir, string[] routes, RouteGeneration? previous)
    {
        var config = ConfigLoader.Parse(
            $$"""{ "listen": [ { "address": "127.0.0.1", "tls": false, "local": true } ], "routes": [ {{string.Join(", ", routes)}} ] }""",
            dir.File("gatehouse.json"));
        return RouteGeneration.Build(Gatehouse.Model.CompiledConfig.Compile(config), null, null, new Dictionary<string, WebSocketRoute>(), new LoginThrottle(), NullLoggerFactory.Instance, Wire.BufferPools.Shared, new Proxy.UpstreamLimits(), previous);
    }

    private static ProxyRouteHandler Handler(RouteGeneration generation, string prefix) =>
        (ProxyRouteHandler)generation.HandlerFor(generation.Routes.Routes.Single(route => route.Prefix == prefix));
}
