using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Cryptography.X509Certificates;
using Floor;

// The least a TLS-terminating proxy on SslStream and Socket can do per keep-alive GET: read a head,
// send it upstream as it came, read the answer to its Content-Length, write it back in one call.
// No parsing beyond that, no policy, no pipes, fixed buffers. What it costs per request is the
// floor of the stack under Gatehouse (the runtime, the socket engine, SslStream, OpenSSL, the
// kernel); what Gatehouse costs above it is Gatehouse's own.
// "GET /local" is answered from memory, without the upstream: what the rest costs, without the forward.
// With "pipes" the same loop reads and writes through System.IO.Pipelines as Gatehouse does
// (src/Http1/ConnectionPipes.cs, src/Proxy/Upstream/UpstreamConnection.cs): the pipes' own cost.
// With "layers=N" the wait for the upstream's answer sits under N more async methods, each awaiting
// the next, as Gatehouse's forward waits under its connection loop, router, route handler and forward
// operation: what one more suspended frame per request costs.
//   floor CERT KEY BACKEND_PORT [pipes|layers=N]   (prints {"ready": true, "port": N} once listening on 127.0.0.1)
var layers = args.Length == 4 && args[3].StartsWith("layers=", StringComparison.Ordinal)
    ? int.Parse(args[3].AsSpan("layers=".Length), System.Globalization.CultureInfo.InvariantCulture)
    : 0;
if (args.Length is < 3 or > 4 || (args.Length == 4 && args[3] != "pipes" && layers <= 0))
{
    Console.Error.WriteLine("usage: floor CERT KEY BACKEND_PORT [pipes|layers=N]");
    return 2;
}

var pipes = args.Length == 4 && layers == 0;

using var certificate = X509Certificate2.CreateFromPemFile(args[0], args[1]);
var context = SslStreamCertificateContext.Create(certificate, additionalCertificates: null);
var backend = new IPEndPoint(IPAddress.Loopback, int.Parse(args[2], System.Globalization.CultureInfo.InvariantCulture));
using var listener = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
listener.Bind(new IPEndPoint(IPAddress.Loopback, 0));
listener.Listen(4096);
Console.WriteLine($"{{\"ready\": true, \"port\": {((IPEndPoint)listener.LocalEndPoint!).Port}}}");

while (true)
{
    var client = await listener.AcceptAsync().ConfigureAwait(false);
    _ = pipes ? PipesFloor.ServeAsync(client, context, backend) : ServeAsync(client, context, backend, layers);
}

static async Task ServeAsync(Socket client, SslStreamCertificateContext context, IPEndPoint backend, int layers)
{
    try
    {
        var (tls, upstream) = await Ends.OpenAsync(client, context, backend).ConfigureAwait(false);
        using var ownedTls = tls;
        using var ownedUpstream = upstream;
        var request = new byte[16 * 1024];
        var answer = new byte[64 * 1024];
        var held = 0;
        while (true)
        {
            int headEnd;
            while ((headEnd = request.AsSpan(0, held).IndexOf("\r\n\r\n"u8)) < 0)
            {
                var read = await tls.ReadAsync(request.AsMemory(held)).ConfigureAwait(false);
                if (read == 0)
                {
                    return;
                }

                held += read;
            }

            var length = headEnd + 4;
            var local = request.AsSpan(0, length).StartsWith("GET /local "u8);
            if (!local)
            {
                await upstream.SendAsync(request.AsMemory(0, length), SocketFlags.None).ConfigureAwait(false);
            }

            held -= length;
            request.AsSpan(length, held).CopyTo(request);
            if (local)
            {
                await tls.WriteAsync(Ends.LocalAnswer).ConfigureAwait(false);
                continue;
            }

            var got = 0;
            var total = -1;
            while (total < 0 || got < total)
            {
                var read = layers > 0
                    ? await Layers.ReceiveAsync(layers, upstream, answer.AsMemory(got)).ConfigureAwait(false)
                    : await upstream.ReceiveAsync(answer.AsMemory(got), SocketFlags.None).ConfigureAwait(false);
                if (read == 0)
                {
                    return;
                }

                got += read;
                if (total < 0 && answer.AsSpan(0, got).IndexOf("\r\n\r\n"u8) is var end and >= 0)
                {
                    total = end + 4 + Ends.ContentLength(answer.AsSpan(0, end));
                }
            }

            await tls.WriteAsync(answer.AsMemory(0, got)).ConfigureAwait(false);
        }
    }
    catch (Exception ex) when (Ends.IsGone(ex))
    {
        // The client went away: nothing to report for a measurement tool.
    }
}
