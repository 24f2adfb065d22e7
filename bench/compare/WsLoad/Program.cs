// WebSocket echo load client for bench/compare scenario 6 (issue 6's benchmark).
// Usage: ws-load --url wss://127.0.0.1:N/echo/ --cert client.crt --key client.key
//                [--conns 8] [--size 64] [--inflight 4] [--duration 10] [--warmup 3]
// Opens --conns WebSocket connections over TLS presenting the client certificate (the server is
// accepted whatever its certificate: this is a load generator on loopback), then on each keeps
// --inflight binary messages of --size bytes outstanding: a new one goes out as each echo comes
// back. Echoes received during --warmup seconds are not counted; those in the next --duration
// seconds are. Every echo's length is checked, and the first on each connection byte for byte.
// Prints one JSON line: messages, seconds, msgs_per_s, mb_per_s (echoed payload, one direction,
// 10^6 bytes) and client_cpu_us (this process's CPU per echo) for the measured window; total (echoes over the whole run, warm-up and drain too); errors.
using System.Diagnostics;
using System.Globalization;
using System.Net.WebSockets;
using System.Security.Cryptography.X509Certificates;

var opts = new Dictionary<string, string>(StringComparer.Ordinal);
for (var i = 0; i + 1 < args.Length; i += 2) opts[args[i].TrimStart('-')] = args[i + 1];
string Opt(string name, string fallback) => opts.TryGetValue(name, out var v) ? v : fallback;
int IntOpt(string name, int fallback) => int.Parse(Opt(name, fallback.ToString(CultureInfo.InvariantCulture)), CultureInfo.InvariantCulture);

var uri = new Uri(Opt("url", "wss://127.0.0.1:8443/echo/"));
var conns = IntOpt("conns", 8);
var size = IntOpt("size", 64);
var inflight = IntOpt("inflight", 4);
var duration = double.Parse(Opt("duration", "10"), CultureInfo.InvariantCulture);
var warmup = double.Parse(Opt("warmup", "3"), CultureInfo.InvariantCulture);

var cert = X509Certificate2.CreateFromPemFile(Opt("cert", "client.crt"), Opt("key", "client.key"));
cert = X509CertificateLoader.LoadPkcs12(cert.Export(X509ContentType.Pkcs12), null);

var payload = new byte[size];
new Random(6).NextBytes(payload);

long received = 0;
long errors = 0;
string? firstError = null;
using var stopSending = new CancellationTokenSource();

var sockets = new List<ClientWebSocket>();
try
{
    for (var i = 0; i < conns; i++)
    {
        var ws = new ClientWebSocket();
        ws.Options.ClientCertificates = new X509CertificateCollection { cert };
        ws.Options.RemoteCertificateValidationCallback = (_, _, _, _) => true;
        ws.Options.KeepAliveInterval = TimeSpan.Zero;
        using var connectTimeout = new CancellationTokenSource(TimeSpan.FromSeconds(15));
        await ws.ConnectAsync(uri, connectTimeout.Token);
        sockets.Add(ws);
    }
}
catch (Exception ex)
{
    Console.Error.WriteLine($"ws-load: connect {sockets.Count + 1}/{conns} to {uri} failed: {ex.GetType().Name}: {ex.Message} {ex.InnerException?.Message}");
    foreach (var s in sockets) s.Abort();
    return 1;
}

var clock = Stopwatch.StartNew();
var tasks = sockets.Select(RunAsync).ToArray();

await Task.Delay(TimeSpan.FromSeconds(warmup));
var c0 = Interlocked.Read(ref received);
var t0 = clock.Elapsed.TotalSeconds;
var cpu0 = Process.GetCurrentProcess().TotalProcessorTime;
await Task.Delay(TimeSpan.FromSeconds(duration));
var c1 = Interlocked.Read(ref received);
var t1 = clock.Elapsed.TotalSeconds;
var cpu1 = Process.GetCurrentProcess().TotalProcessorTime;
stopSending.Cancel();
var all = Task.WhenAll(tasks);
await Task.WhenAny(all, Task.Delay(TimeSpan.FromSeconds(15)));
if (!all.IsCompleted)
{
    Interlocked.Increment(ref errors);
    firstError ??= "connections did not finish within 15 s of the end";
    foreach (var s in sockets) s.Abort();
}

var seconds = t1 - t0;
var messages = c1 - c0;
var inv = CultureInfo.InvariantCulture;
Console.Out.WriteLine(string.Format(inv,
    "{{\"conns\":{0},\"size\":{1},\"inflight\":{2},\"messages\":{3},\"seconds\":{4:0.000},\"msgs_per_s\":{5:0.0},\"mb_per_s\":{6:0.000},\"total\":{9},\"client_cpu_us\":{10:0.00},\"errors\":{7}{8}}}",
    conns, size, inflight, messages, seconds, messages / seconds, messages * (double)size / seconds / 1e6, Interlocked.Read(ref errors),
    firstError is null ? "" : ",\"error\":\"" + firstError.Replace("\\", "\\\\").Replace("\"", "'") + "\"",
    Interlocked.Read(ref received), messages > 0 ? (cpu1 - cpu0).TotalMicroseconds / messages : 0));
return Interlocked.Read(ref errors) == 0 && messages > 0 ? 0 : 1;

// One loop per connection: --inflight messages go out, then each echo received is answered by a new
// message until the end, after which the outstanding echoes are drained and the stream closed.
// (Sends are small next to the socket buffers, so sending while not reading cannot deadlock.)
async Task RunAsync(ClientWebSocket ws)
{
    var buffer = new byte[Math.Max(size, 1) + 1];
    var first = true;
    var outstanding = 0;
    try
    {
        for (; outstanding < inflight; outstanding++)
        {
            await ws.SendAsync(payload, WebSocketMessageType.Binary, endOfMessage: true, CancellationToken.None);
        }

        while (outstanding > 0)
        {
            var count = 0;
            ValueWebSocketReceiveResult result;
            do
            {
                if (count == buffer.Length)
                {
                    throw new InvalidOperationException($"echo longer than {size} bytes");
                }

                result = await ws.ReceiveAsync(buffer.AsMemory(count), CancellationToken.None);
                if (result.MessageType == WebSocketMessageType.Close)
                {
                    throw new InvalidOperationException($"server closed: {ws.CloseStatus} {ws.CloseStatusDescription}");
                }

                count += result.Count;
            }
            while (!result.EndOfMessage);

            if (count != size)
            {
                throw new InvalidOperationException($"echo of {count} bytes, sent {size}");
            }

            if (first)
            {
                if (!buffer.AsSpan(0, count).SequenceEqual(payload))
                {
                    throw new InvalidOperationException("echo differs from the message sent");
                }

                first = false;
            }

            Interlocked.Increment(ref received);
            outstanding--;
            if (!stopSending.IsCancellationRequested)
            {
                await ws.SendAsync(payload, WebSocketMessageType.Binary, endOfMessage: true, CancellationToken.None);
                outstanding++;
            }
        }

        using var closeTimeout = new CancellationTokenSource(TimeSpan.FromSeconds(5));
        await ws.CloseAsync(WebSocketCloseStatus.NormalClosure, "done", closeTimeout.Token);
    }
    catch (Exception ex)
    {
        Interlocked.Increment(ref errors);
        lock (sockets)
        {
            firstError ??= $"{ex.GetType().Name}: {ex.Message}";
        }

        ws.Abort();
    }
}
