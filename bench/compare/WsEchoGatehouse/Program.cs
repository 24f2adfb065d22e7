// Gatehouse WebSocket echo host for bench/compare scenario 6 (issue 6's benchmark).
// Usage: ws-echo-gatehouse --config FILE
// The config names a "websocket" route "echo"; this host registers its handler: read each whole
// message (WebSocketMessages.ReceiveMessageAsync, at most 1 MiB) and send it back, same type.
// Prints {"ready":true,"port":N,"pin":"..."} on stdout once listening; runs until SIGTERM/SIGINT.
using System.Buffers;
using System.Globalization;
using System.Net.WebSockets;
using System.Runtime.InteropServices;
using Gatehouse.Hosting;
using Gatehouse.Routing;
using Gatehouse.Http1.WebSockets;

const int MaxMessage = 1 << 20;

// Run as `gatehouse serve` runs: socket completions inline on the socket event threads
// (src/Gatehouse/Hosting/SocketCompletions.cs, set there before the first socket operation) and,
// in the csproj, the thread pool's spin limit at 0. Without them this host measured a gateway
// configured unlike the one users run (issue 22 item 4: 33-38 against 28 µs per 64 B echo).
if (Environment.GetEnvironmentVariable("DOTNET_SYSTEM_NET_SOCKETS_INLINE_COMPLETIONS") is null)
{
    Environment.SetEnvironmentVariable("DOTNET_SYSTEM_NET_SOCKETS_INLINE_COMPLETIONS", "1");
}

string? configPath = null;
for (var i = 0; i + 1 < args.Length; i += 2)
{
    if (args[i] == "--config") configPath = args[i + 1];
}
if (configPath is null)
{
    Console.Error.WriteLine("usage: ws-echo-gatehouse --config FILE");
    return 2;
}

var options = new GatehouseServerOptions();
options.WebSocketRoutes["echo"] = new WebSocketRoute(EchoAsync, new WebSocketEndpointOptions { MaxMessageBytes = MaxMessage });

await using var server = GatehouseServer.CreateFromFile(configPath, environment: null, options);
server.Start();

using var stop = new CancellationTokenSource();
void Stop(PosixSignalContext context)
{
    context.Cancel = true;
    stop.Cancel();
}
using var sigterm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, Stop);
using var sigint = PosixSignalRegistration.Create(PosixSignal.SIGINT, Stop);

Console.Out.WriteLine("{\"ready\":true,\"port\":" + server.BoundEndpoints[0].Port.ToString(CultureInfo.InvariantCulture)
                      + ",\"pin\":\"" + server.Pin + "\"}");
Console.Out.Flush();
try
{
    await Task.Delay(Timeout.Infinite, stop.Token);
}
catch (OperationCanceledException)
{
}

await server.StopAsync(TimeSpan.FromSeconds(2));
return 0;

static async Task EchoAsync(WebSocket socket, WebSocketConnectionInfo info, CancellationToken stopping)
{
    var buffer = new ArrayBufferWriter<byte>(64 * 1024);
    while (true)
    {
        var type = await WebSocketMessages.ReceiveMessageAsync(socket, buffer, MaxMessage, stopping);
        if (type == WebSocketMessageType.Close)
        {
            return; // the endpoint answers the close handshake
        }

        await socket.SendAsync(buffer.WrittenMemory, type, endOfMessage: true, stopping);
    }
}
