using System.Net;
using System.Security.Cryptography.X509Certificates;
using Gatehouse.Wire;

namespace Gatehouse.Http1.Tests.Support;

/// <summary>A WireServer on port 0 speaking HTTP/1.1 through <see cref="Http1Connection"/> to a <see cref="RecordingHandler"/> (or a handler of the test's own).</summary>
internal sealed class TestServer : IAsyncDisposable
{
    private readonly IRequestHandler _handler;

    private TestServer(WireServer server, IRequestHandler handler)
    {
        Server = server;
        _handler = handler;
    }

    public WireServer Server { get; }

    public RecordingHandler Handler => (RecordingHandler)_handler;

    public IPEndPoint Endpoint => Server.BoundEndpoints[0];

    /// <summary>Short timeouts, so a test that leaves something hanging ends in seconds, not minutes.</summary>
    public static WireLimits ShortWireLimits { get; } = new()
    {
        HandshakeTimeout = TimeSpan.FromSeconds(5),
        ShutdownGrace = TimeSpan.FromSeconds(1),
    };

    /// <summary>The same for HTTP/1.1.</summary>
    public static Http1Limits ShortLimits() => TimeoutLimits();

    /// <summary><see cref="ShortLimits"/> with the header and keep-alive timeouts a timeout test sets.</summary>
    public static Http1Limits TimeoutLimits(TimeSpan? header = null, TimeSpan? keepAlive = null) => new()
    {
        HeaderTimeout = header ?? TimeSpan.FromSeconds(3),
        KeepAliveTimeout = keepAlive ?? TimeSpan.FromSeconds(3),
        BodyIdleTimeout = TimeSpan.FromSeconds(3),
    };

    public static TestServer StartPlain(Http1Limits? limits = null, IRequestHandler? handler = null, ExchangePartsPool? partsPool = null)
    {
        handler ??= new RecordingHandler();
        limits ??= ShortLimits();
        partsPool ??= new ExchangePartsPool(limits);
        var server = new WireServer(
            [new ListenEndpoint { Address = IPAddress.Loopback, Port = 0, Tls = false, Local = true }],
            identity: null,
            new ClientTrust([], [], []),
            ShortWireLimits,
            Http1Connection.CreateHandler(handler, limits, partsPool));
        server.Start();
        return new TestServer(server, handler);
    }

    public static TestServer StartTls(ServerIdentity identity, X509Certificate2 ca, Http1Limits? limits = null, IRequestHandler? handler = null)
    {
        handler ??= new RecordingHandler();
        limits ??= ShortLimits();
        var server = new WireServer(
            [new ListenEndpoint { Address = IPAddress.Loopback, Port = 0, Tls = true }],
            identity,
            new ClientTrust([new TrustedCa("user", ca)], [], []),
            ShortWireLimits,
            Http1Connection.CreateHandler(handler, limits));
        server.Start();
        return new TestServer(server, handler);
    }

    public async ValueTask DisposeAsync() => await Server.DisposeAsync();
}
