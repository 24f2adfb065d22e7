using System.Net;
using Gatehouse.Http1;
using Gatehouse.Http1.WebSockets;
using Gatehouse.Wire;

namespace Gatehouse.WebSockets.Tests.Support;

/// <summary>
/// One TLS gate on 127.0.0.1:0 and [::1]:0 whose router sends each test path to a
/// <see cref="WebSocketEndpoint"/> (everything else 404), like an embedding app would.
/// </summary>
public sealed class WsServerFixture : IAsyncLifetime
{
    private WireServer? _server;

    public TestPki Pki { get; } = new();

    public Probes Probes { get; } = new();

    public IPEndPoint V4 => _server!.BoundEndpoints[0];

    public IPEndPoint V6 => _server!.BoundEndpoints[1];

    public Uri Url(string pathAndQuery) => new($"wss://127.0.0.1:{V4.Port}{pathAndQuery}");

    public static WireLimits WireLimits { get; } = new()
    {
        HandshakeTimeout = TimeSpan.FromSeconds(5),
        ShutdownGrace = TimeSpan.FromSeconds(1),
    };

    public static Http1Limits Limits { get; } = new()
    {
        HeaderTimeout = TimeSpan.FromSeconds(3),
        KeepAliveTimeout = TimeSpan.FromSeconds(3),
    };

    public Task InitializeAsync()
    {
        _server = new WireServer(
            [
                new ListenEndpoint { Address = IPAddress.Loopback, Port = 0 },
                new ListenEndpoint { Address = IPAddress.IPv6Loopback, Port = 0 },
            ],
            Pki.Identity,
            Pki.Trust(),
            WireLimits,
            Http1Connection.CreateHandler(new TestRouter(Probes), Limits));
        _server.Start();
        return Task.CompletedTask;
    }

    public async Task DisposeAsync()
    {
        if (_server is not null)
        {
            await _server.DisposeAsync();
        }

        Pki.Dispose();
    }

    /// <summary>Starts a separate gate on one address (link-local tests).</summary>
    public WireServer StartOn(IPAddress address)
    {
        var server = new WireServer([new ListenEndpoint { Address = address, Port = 0 }], Pki.Identity, Pki.Trust(), WireLimits, Http1Connection.CreateHandler(new TestRouter(Probes), Limits));
        server.Start();
        return server;
    }
}

[CollectionDefinition(Name)]
public sealed class WsCollection : ICollectionFixture<WsServerFixture>
{
    // One collection: the tests share one gate and run one after the other, so timing and memory
    // measurements are not disturbed by each other.
    public const string Name = "websocket gate";
}
