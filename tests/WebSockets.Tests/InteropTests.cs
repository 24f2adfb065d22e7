using System.Buffers;
using System.Net.WebSockets;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using System.Text.Json;
using Gatehouse.Http1.WebSockets;
using Gatehouse.WebSockets.Tests.Support;

namespace Gatehouse.WebSockets.Tests;

/// <summary>Interop with the `ws` npm package both ways, over TLS with client certificates.</summary>
[Collection(WsCollection.Name)]
public sealed class InteropTests(WsServerFixture fixture)
{
    private TestPki Pki => fixture.Pki;

    [Fact]
    public async Task ANodeWsClientEchoesLargeAndFragmentedMessagesThroughTheGate()
    {
        using var node = NodePeer.Start("ws-client.cjs", $"wss://127.0.0.1:{fixture.V4.Port}/echo", Pki.ClientCertPath, Pki.ClientKeyPath, "echo");
        var line = await node.ReadLineAsync(TimeSpan.FromSeconds(20));
        Assert.True(line == "ok 1000", $"{line}; stderr: {node.Errors}");
        Assert.Equal(0, await node.WaitForExitAsync(TimeSpan.FromSeconds(5)));
    }

    [Fact]
    public async Task ANodeWsClientWithAnUnknownKeyIsRefused()
    {
        var folder = Directory.CreateTempSubdirectory("gatehouse-ws-stranger-").FullName;
        try
        {
            var cert = Path.Combine(folder, "s.crt");
            var key = Path.Combine(folder, "s.key");
            Gatehouse.Wire.PemFiles.WriteCertificate(cert, Pki.Stranger);
            using (var k = Pki.Stranger.GetECDsaPrivateKey()!)
            {
                Gatehouse.Wire.PemFiles.WritePrivateKey(key, k, ReadOnlySpan<char>.Empty);
            }

            using var node = NodePeer.Start("ws-client.cjs", $"wss://127.0.0.1:{fixture.V4.Port}/echo", cert, key, "hold");
            Assert.NotEqual(0, await node.WaitForExitAsync(TimeSpan.FromSeconds(10)));
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    [Fact]
    public async Task TheGatehouseClientTalksToANodeWsServerBehindTls()
    {
        var caPath = Path.Combine(Pki.Folder, "ca.crt");
        Gatehouse.Wire.PemFiles.WriteCertificate(caPath, Pki.Ca);
        using var node = NodePeer.Start("ws-server.cjs", Pki.ServerCertPath, Pki.ServerKeyPath, caPath);
        var port = JsonDocument.Parse(await node.ReadLineAsync(TimeSpan.FromSeconds(10))).RootElement.GetProperty("port").GetInt32();
        var url = new Uri($"wss://127.0.0.1:{port}/");

        using var socket = await GatehouseWebSocket.ConnectAsync(url, Pki.Identity.Pin, Pki.Client);
        Assert.Equal("hello laptop", await Ws.ReceiveTextAsync(socket));

        // Large binary, in fragments.
        var payload = RandomNumberGenerator.GetBytes(3 * 1024 * 1024);
        for (var offset = 0; offset < payload.Length; offset += 256 * 1024)
        {
            var count = Math.Min(256 * 1024, payload.Length - offset);
            await socket.SendAsync(payload.AsMemory(offset, count), WebSocketMessageType.Binary, offset + count == payload.Length, Ws.Soon());
        }

        var buffer = new ArrayBufferWriter<byte>();
        Assert.Equal(WebSocketMessageType.Binary, await WebSocketMessages.ReceiveMessageAsync(socket, buffer, 8 * 1024 * 1024, Ws.Soon()));
        Assert.True(buffer.WrittenSpan.SequenceEqual(payload));

        // Fragmented text with multi-byte characters split across fragments.
        var text = Encoding.UTF8.GetBytes("grüße " + new string('x', 100_000) + " ✓");
        await socket.SendAsync(text.AsMemory(0, 3), WebSocketMessageType.Text, false, Ws.Soon()); // splits "ü"
        await socket.SendAsync(text.AsMemory(3), WebSocketMessageType.Text, true, Ws.Soon());
        Assert.Equal(Encoding.UTF8.GetString(text), await Ws.ReceiveTextAsync(socket));

        await socket.CloseAsync(WebSocketCloseStatus.NormalClosure, null, Ws.Soon());
        Assert.Equal(WebSocketState.Closed, socket.State);

        // The pin still decides: the right server with a wrong pin is refused before any byte is sent.
        await Assert.ThrowsAsync<ServerPinMismatchException>(() => GatehouseWebSocket.ConnectAsync(url, Gatehouse.Wire.KeyPin.Compute(Pki.Stranger), Pki.Client));
    }
}
