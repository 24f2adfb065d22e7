using System.Buffers;
using System.Net.WebSockets;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using Gatehouse.Config;
using Gatehouse.Hosting;
using Gatehouse.Http1.WebSockets;
using Gatehouse.Routing;
using Gatehouse.Wire;

namespace Gatehouse.Tests;

/// <summary>
/// Issue 6 through the composed gateway: an embedding app registers a handler for a
/// `websocket` route; the key-pinned client and the `gatehouse ws` command talk to it.
/// </summary>
public sealed class WebSocketRouteTests
{
    [Fact]
    public async Task TheRegisteredHandlerGetsTheStreamAndThePrincipal()
    {
        await using var gateway = await StartAsync();
        using var client = CertificateFactory.IssueClient(gateway.Ca, "alice-laptop");
        using var socket = await GatehouseWebSocket.ConnectAsync(new Uri($"wss://127.0.0.1:{gateway.Port}/feed/"), gateway.Server.Pin, client);
        await socket.SendAsync("hello"u8.ToArray(), WebSocketMessageType.Text, endOfMessage: true, CancellationToken.None);
        Assert.Equal("hello from " + KeyPin.Compute(client), await ReceiveTextAsync(socket));
        await socket.CloseAsync(WebSocketCloseStatus.NormalClosure, "bye", CancellationToken.None);
    }

    [Fact]
    public async Task APrincipalWithoutAGrantIsRefusedBeforeTheUpgrade()
    {
        using var stranger = CertificateFactory.CreateSelfSignedClient("stranger");
        var pin = KeyPin.Compute(stranger);
        await using var gateway = await StartAsync(config => config.Trust.Pins.Add(new PinConfig { Name = "stranger", Pin = pin }));
        var error = await Assert.ThrowsAnyAsync<Exception>(() => GatehouseWebSocket.ConnectAsync(new Uri($"wss://127.0.0.1:{gateway.Port}/feed/"), gateway.Server.Pin, stranger));
        Assert.Contains("403", error.Message);
    }

    [Fact]
    public async Task GatehouseWsPipesLinesAsMessages()
    {
        await using var gateway = await StartAsync();
        using var client = CertificateFactory.IssueClient(gateway.Ca, "alice-laptop");
        PemFiles.WriteCertificate(gateway.Dir.File("ws.crt"), client);
        PemFiles.WritePrivateKey(gateway.Dir.File("ws.key"), client.GetECDsaPrivateKey()!, default);
        var result = await GatehouseProcess.RunAsync(
            "one\ntwo\n",
            "ws", $"wss://127.0.0.1:{gateway.Port}/feed/", "--pin", gateway.Server.Pin, "--cert", gateway.Dir.File("ws.crt"), "--key", gateway.Dir.File("ws.key"));
        Assert.True(result.ExitCode == 0, result.Stderr);
        var pin = KeyPin.Compute(client);
        Assert.Equal([$"one from {pin}", $"two from {pin}"], result.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries));
    }

    [Fact]
    public async Task AWebSocketRouteWithoutARegisteredHandlerIsAConfigError()
    {
        var error = await Assert.ThrowsAsync<ConfigException>(() => InProcessGateway.StartAsync(AddRoute));
        Assert.Contains("feed", error.Message);
    }

    private static Task<InProcessGateway> StartAsync(Action<GatehouseConfig>? edit = null)
    {
        var options = new GatehouseServerOptions();
        options.WebSocketRoutes["feed"] = new WebSocketRoute(EchoWithPrincipalAsync, new WebSocketEndpointOptions());
        return InProcessGateway.StartAsync(
            config =>
            {
                edit?.Invoke(config);
                return AddRoute(config);
            },
            options: options);
    }

    private static GatehouseConfig AddRoute(GatehouseConfig config)
    {
        config.Routes.Add(new RouteConfig { Kind = "websocket", Prefix = "/feed/", Name = "feed" });
        config.Rules[0].Proxy = ["feed"];
        return config;
    }

    internal static async Task EchoWithPrincipalAsync(WebSocket socket, WebSocketConnectionInfo info, CancellationToken stopping)
    {
        var buffer = new ArrayBufferWriter<byte>();
        while (true)
        {
            buffer.ResetWrittenCount();
            var type = await WebSocketMessages.ReceiveMessageAsync(socket, buffer, 1 << 20, stopping);
            if (type == WebSocketMessageType.Close)
            {
                return;
            }

            var answer = Encoding.UTF8.GetBytes($"{Encoding.UTF8.GetString(buffer.WrittenSpan)} from {info.Principal.Pin}");
            await socket.SendAsync(answer, WebSocketMessageType.Text, endOfMessage: true, stopping);
        }
    }

    internal static async Task<string> ReceiveTextAsync(WebSocket socket)
    {
        var buffer = new ArrayBufferWriter<byte>();
        var type = await WebSocketMessages.ReceiveMessageAsync(socket, buffer, 1 << 20, CancellationToken.None);
        Assert.Equal(WebSocketMessageType.Text, type);
        return Encoding.UTF8.GetString(buffer.WrittenSpan);
    }
}
