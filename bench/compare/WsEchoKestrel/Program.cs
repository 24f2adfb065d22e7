// Kestrel WebSocket echo peer for bench/compare scenario 6 (issue 6's benchmark).
// Usage: ws-echo-kestrel --port N --cert server.crt --key server.key --ca ca.crt
// HTTPS (HTTP/1.1, TLS 1.2+1.3) on 127.0.0.1:N with Gatehouse's server certificate; a client
// certificate is required and must chain to the user CA (custom root trust, never the system
// store), like Gatehouse. app.UseWebSockets(); /echo/ accepts the upgrade and runs the same echo
// loop as bench/compare/WsEchoGatehouse: whole messages of at most 1 MiB, sent back as they came.
// Prints {"ready":true,"port":N} on stdout when listening; runs until SIGTERM.
using System.Buffers;
using System.Globalization;
using System.Net;
using System.Net.WebSockets;
using System.Security.Authentication;
using System.Security.Cryptography.X509Certificates;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.AspNetCore.Server.Kestrel.Https;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

const int MaxMessage = 1 << 20;

var opts = new Dictionary<string, string>(StringComparer.Ordinal);
for (var i = 0; i + 1 < args.Length; i += 2) opts[args[i].TrimStart('-')] = args[i + 1];
string Opt(string name, string fallback) => opts.TryGetValue(name, out var v) ? v : fallback;

var port = int.Parse(Opt("port", "0"), CultureInfo.InvariantCulture);
var serverCert = X509Certificate2.CreateFromPemFile(Opt("cert", "server.crt"), Opt("key", "server.key"));
// Kestrel on Linux wants a certificate whose private key is usable by SslStream: re-import as PKCS#12.
serverCert = X509CertificateLoader.LoadPkcs12(serverCert.Export(X509ContentType.Pkcs12), null);
var ca = X509CertificateLoader.LoadCertificateFromFile(Opt("ca", "ca.crt"));

var builder = WebApplication.CreateSlimBuilder(args);
builder.Logging.ClearProviders();
builder.Logging.AddConsole(o => o.LogToStandardErrorThreshold = LogLevel.Trace);
builder.Logging.SetMinimumLevel(LogLevel.Warning);
builder.WebHost.ConfigureKestrel(k =>
{
    k.AddServerHeader = false;
    k.Limits.MaxConcurrentConnections = null;
    k.Listen(IPAddress.Loopback, port, listen =>
    {
        listen.Protocols = HttpProtocols.Http1;
        listen.UseHttps(new HttpsConnectionAdapterOptions
        {
            ServerCertificate = serverCert,
            SslProtocols = SslProtocols.Tls12 | SslProtocols.Tls13,
            ClientCertificateMode = ClientCertificateMode.RequireCertificate,
            ClientCertificateValidation = (cert, _, _) =>
            {
                using var chain = new X509Chain();
                chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
                chain.ChainPolicy.CustomTrustStore.Add(ca);
                chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
                return chain.Build(cert);
            },
        });
    });
});

var app = builder.Build();
// Keep-alive as Gatehouse's endpoint default (30 s); neither fires during a run.
app.UseWebSockets(new WebSocketOptions { KeepAliveInterval = TimeSpan.FromSeconds(30) });
app.Map("/echo", echo => echo.Run(async context =>
{
    if (!context.WebSockets.IsWebSocketRequest)
    {
        context.Response.StatusCode = StatusCodes.Status426UpgradeRequired;
        context.Response.Headers.Upgrade = "websocket";
        return;
    }

    using var socket = await context.WebSockets.AcceptWebSocketAsync();
    try
    {
        await EchoAsync(socket, context.RequestAborted);
    }
    catch (Exception ex) when (ex is WebSocketException or IOException or OperationCanceledException)
    {
        // the client went away: an expected end
    }
}));
await app.StartAsync();
Console.Out.WriteLine("{\"ready\":true,\"port\":" + port.ToString(CultureInfo.InvariantCulture) + "}");
Console.Out.Flush();
await app.WaitForShutdownAsync();

// The same loop as WsEchoGatehouse, with WebSocketMessages.ReceiveMessageAsync inlined (64 KiB reads).
static async Task EchoAsync(WebSocket socket, CancellationToken stopping)
{
    var buffer = new ArrayBufferWriter<byte>(64 * 1024);
    while (true)
    {
        buffer.ResetWrittenCount();
        WebSocketMessageType type;
        while (true)
        {
            var room = (int)Math.Min(64 * 1024, (long)MaxMessage - buffer.WrittenCount + 1);
            var result = await socket.ReceiveAsync(buffer.GetMemory(room)[..room], stopping);
            if (result.MessageType == WebSocketMessageType.Close)
            {
                if (socket.State == WebSocketState.CloseReceived)
                {
                    await socket.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, "done", stopping);
                }
                return;
            }

            buffer.Advance(result.Count);
            if (buffer.WrittenCount > MaxMessage)
            {
                await socket.CloseAsync(WebSocketCloseStatus.MessageTooBig, "too big", stopping);
                return;
            }

            if (result.EndOfMessage)
            {
                type = result.MessageType;
                break;
            }
        }

        await socket.SendAsync(buffer.WrittenMemory, type, endOfMessage: true, stopping);
    }
}
