using System.Buffers;
using System.Net;
using System.Net.NetworkInformation;
using System.Net.Sockets;
using System.Net.WebSockets;
using System.Security.Cryptography;
using Gatehouse.Http1.WebSockets;
using Gatehouse.WebSockets.Tests.Support;
using Gatehouse.Wire;

namespace Gatehouse.WebSockets.Tests;

/// <summary>GatehouseWebSocket against the gate: echo, pinning, client keys, address forms, timeouts.</summary>
[Collection(WsCollection.Name)]
public sealed class ClientTests(WsServerFixture fixture)
{
    private TestPki Pki => fixture.Pki;

    [Fact]
    public async Task EchoesSmallMessagesAndClosesCleanly()
    {
        using var socket = await GatehouseWebSocket.ConnectAsync(fixture.Url("/echo"), Pki.Identity.Pin, Pki.Client);
        Assert.Equal(WebSocketState.Open, socket.State);
        await Ws.SendTextAsync(socket, "hello gate");
        Assert.Equal("hello gate", await Ws.ReceiveTextAsync(socket));
        await socket.CloseAsync(WebSocketCloseStatus.NormalClosure, "bye", Ws.Soon());
        Assert.Equal(WebSocketState.Closed, socket.State);
        Assert.Equal(WebSocketCloseStatus.NormalClosure, socket.CloseStatus);
    }

    [Fact]
    public async Task EchoesAOneMebibyteMessageSentInFragments()
    {
        using var socket = await GatehouseWebSocket.ConnectAsync(fixture.Url("/echo"), Pki.Identity.Pin, Pki.Client);
        var payload = RandomNumberGenerator.GetBytes(1024 * 1024);
        for (var offset = 0; offset < payload.Length; offset += 100_000)
        {
            var count = Math.Min(100_000, payload.Length - offset);
            await socket.SendAsync(payload.AsMemory(offset, count), WebSocketMessageType.Binary, offset + count == payload.Length, Ws.Soon());
        }

        var buffer = new ArrayBufferWriter<byte>();
        Assert.Equal(WebSocketMessageType.Binary, await WebSocketMessages.ReceiveMessageAsync(socket, buffer, 2 * 1024 * 1024, Ws.Soon()));
        Assert.True(buffer.WrittenSpan.SequenceEqual(payload));
        await socket.CloseAsync(WebSocketCloseStatus.NormalClosure, null, Ws.Soon());
    }

    [Fact]
    public async Task ClosesWith1009WhenAMessageExceedsTheServersLimit()
    {
        using var socket = await GatehouseWebSocket.ConnectAsync(fixture.Url("/echo"), Pki.Identity.Pin, Pki.Client);
        var tooBig = new byte[TestHandlers.EchoMaxBytes + 1];
        try
        {
            await socket.SendAsync(tooBig, WebSocketMessageType.Binary, true, Ws.Soon());
        }
        catch (WebSocketException)
        {
            // the server may close before the whole message is written
        }

        var buffer = new byte[1024];
        var result = await socket.ReceiveAsync(buffer, Ws.Soon());
        Assert.Equal(WebSocketMessageType.Close, result.MessageType);
        Assert.Equal(WebSocketCloseStatus.MessageTooBig, socket.CloseStatus);
    }

    [Fact]
    public async Task RefusesAServerWhoseKeyIsNotThePinnedOne()
    {
        var wrongPin = KeyPin.Compute(Pki.Stranger);
        var ex = await Assert.ThrowsAsync<ServerPinMismatchException>(() => GatehouseWebSocket.ConnectAsync(fixture.Url("/echo"), wrongPin, Pki.Client));
        Assert.StartsWith("server key does not match the expected pin", ex.Message, StringComparison.Ordinal);
        Assert.Equal(Pki.Identity.Pin, ex.ActualPin);
        Assert.Equal(wrongPin, ex.ExpectedPin);
    }

    [Fact]
    public async Task IsRefusedWithAnUnknownClientKey()
    {
        var ex = await Assert.ThrowsAnyAsync<Exception>(() => GatehouseWebSocket.ConnectAsync(fixture.Url("/echo"), Pki.Identity.Pin, Pki.Stranger));
        Assert.True(ex is WebSocketException or System.Security.Authentication.AuthenticationException, ex.ToString());
    }

    [Fact]
    public async Task IsRefusedWithoutAClientCertificate()
    {
        // Without a certificate the TLS handshake itself fails (the gate requires one); use a raw
        // client, since GatehouseWebSocket always presents one.
        using var tcp = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        await tcp.ConnectAsync(fixture.V4);
        await using var tls = new System.Net.Security.SslStream(new NetworkStream(tcp));
        var refused = false;
        try
        {
            await tls.AuthenticateAsClientAsync(new System.Net.Security.SslClientAuthenticationOptions
            {
                TargetHost = "localhost",
                RemoteCertificateValidationCallback = (_, _, _, _) => true,
            });
            await tls.WriteAsync(System.Text.Encoding.ASCII.GetBytes(RawWsClient.UpgradeRequest("/echo")));
            // Refused: closed, or (TLS 1.3, issue 19 item 4) the gateway's fixed 403 naming the alert, never a 101.
            var answer = new byte[256];
            var read = await tls.ReadAsync(answer).AsTask().WaitAsync(TimeSpan.FromSeconds(5));
            var text = System.Text.Encoding.ASCII.GetString(answer, 0, read);
            refused = read == 0 || (text.StartsWith("HTTP/1.1 403", StringComparison.Ordinal) && text.Contains("Refused (TLS alert", StringComparison.Ordinal));
        }
        catch (Exception ex) when (ex is IOException or System.Security.Authentication.AuthenticationException)
        {
            refused = true;
        }

        Assert.True(refused);
    }

    [Fact]
    public async Task ConnectsOverIPv6Loopback()
    {
        using var socket = await GatehouseWebSocket.ConnectAsync(new Uri($"wss://[::1]:{fixture.V6.Port}/echo"), Pki.Identity.Pin, Pki.Client);
        await Ws.SendTextAsync(socket, "over v6");
        Assert.Equal("over v6", await Ws.ReceiveTextAsync(socket));
        await socket.CloseAsync(WebSocketCloseStatus.NormalClosure, null, Ws.Soon());
    }

    [Fact]
    public async Task ConnectsToALinkLocalAddressWithItsZone()
    {
        var linkLocal = NetworkInterface.GetAllNetworkInterfaces()
            .Where(n => n.OperationalStatus == OperationalStatus.Up)
            .SelectMany(n => n.GetIPProperties().UnicastAddresses.Select(a => (n.Name, a.Address)))
            .FirstOrDefault(x => x.Address.IsIPv6LinkLocal);
        if (linkLocal.Address is null)
        {
            return; // no link-local address on this machine: nothing to prove here
        }

        var bare = new IPAddress(linkLocal.Address.GetAddressBytes());
        var zoned = ListenEndpoint.ParseAddress($"{bare}%{linkLocal.Name}");
        await using var server = fixture.StartOn(zoned);
        var url = new Uri($"wss://[{bare}%25{linkLocal.Name}]:{server.BoundEndpoints[0].Port}/echo");
        using var socket = await GatehouseWebSocket.ConnectAsync(url, Pki.Identity.Pin, Pki.Client);
        await Ws.SendTextAsync(socket, "link-local");
        Assert.Equal("link-local", await Ws.ReceiveTextAsync(socket));
        await socket.CloseAsync(WebSocketCloseStatus.NormalClosure, null, Ws.Soon());
    }

    [Fact]
    public async Task NegotiatesASubprotocolAndShowsThePrincipal()
    {
        var options = new GatehouseWebSocketOptions { SubProtocols = ["chat.v3", "chat.v2"] };
        using var socket = await GatehouseWebSocket.ConnectAsync(fixture.Url("/protocol"), Pki.Identity.Pin, Pki.Client, options);
        Assert.Equal("chat.v2", socket.SubProtocol);
        Assert.Equal("chat.v2|CN=laptop", await Ws.ReceiveTextAsync(socket));
    }

    [Fact]
    public async Task ReportsARefusedUpgradeWithItsStatus()
    {
        var ex = await Assert.ThrowsAsync<WebSocketException>(() => GatehouseWebSocket.ConnectAsync(fixture.Url("/nowhere"), Pki.Identity.Pin, Pki.Client));
        Assert.Contains("404", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task GivesUpAfterTheConnectTimeout()
    {
        // A listener that accepts TCP but never speaks TLS: the handshake can only time out.
        using var silent = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        silent.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        silent.Listen();
        var port = ((IPEndPoint)silent.LocalEndPoint!).Port;
        var started = DateTime.UtcNow;
        var options = new GatehouseWebSocketOptions { ConnectTimeout = TimeSpan.FromMilliseconds(500) };
        await Assert.ThrowsAsync<TimeoutException>(() => GatehouseWebSocket.ConnectAsync(new Uri($"wss://127.0.0.1:{port}/"), Pki.Identity.Pin, Pki.Client, options));
        Assert.InRange(DateTime.UtcNow - started, TimeSpan.Zero, TimeSpan.FromSeconds(3));
    }

    [Theory]
    [InlineData("ws://127.0.0.1:1/")]
    [InlineData("https://127.0.0.1:1/")]
    public async Task RefusesUrlsThatAreNotWss(string url) =>
        await Assert.ThrowsAsync<ArgumentException>(() => GatehouseWebSocket.ConnectAsync(new Uri(url), Pki.Identity.Pin, Pki.Client));
}
