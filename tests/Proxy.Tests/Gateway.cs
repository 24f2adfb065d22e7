using System.Net;
using System.Net.Sockets;
using System.Text;
using Gatehouse.Http1;
using Gatehouse.Wire;

namespace Gatehouse.Proxy.Tests;

/// <summary>
/// The gateway side of the socket tests: a plain loopback WireServer + Http1Connection whose
/// handler forwards everything under the first segment (the mount) with <see cref="Forwarder"/>.
/// </summary>
internal sealed class Gateway : IAsyncDisposable, IRequestHandler
{
    private readonly WireServer _server;
    private readonly Action<ForwardPlan>? _configure;

    public Gateway(IReadOnlyList<Uri> nodes, UpstreamOptions? options = null, Action<ForwardPlan>? configure = null, Http1Limits? limits = null, BufferPools? buffers = null)
    {
        Pool = new UpstreamPool(nodes, options ?? new UpstreamOptions());
        _configure = configure;
        limits ??= new Http1Limits();
        _server = new WireServer(
            [new ListenEndpoint { Address = IPAddress.Loopback, Port = 0, Tls = false }],
            null,
            new ClientTrust([], [], []),
            new WireLimits(),
            Http1Connection.CreateHandler(this, limits),
            buffers: buffers);
        _server.Start();
    }

    public UpstreamPool Pool { get; }

    public int Port => _server.BoundEndpoints[0].Port;

    public List<ForwardResult> Results { get; } = [];

    public List<Exception> Errors { get; } = [];

    public async ValueTask HandleAsync(HttpExchange exchange, CancellationToken stopping)
    {
        // The connection's own plan, as the gateway's handlers take it: every socket test forwards on reused state (issue 9).
        var plan = Forwarder.PlanFor(exchange);
        plan.TargetFrom(exchange.Request.Target, 1);
        _configure?.Invoke(plan);
        try
        {
            var result = await Forwarder.ForwardAsync(exchange, Pool, plan, stopping);
            lock (Results)
            {
                Results.Add(result);
            }
        }
        catch (Exception ex)
        {
            lock (Results)
            {
                Errors.Add(ex);
            }

            throw;
        }
    }

    public async Task<TestClient> ConnectAsync()
    {
        var client = new TcpClient();
        await client.ConnectAsync(IPAddress.Loopback, Port);
        return new TestClient(client);
    }

    /// <summary>Stops as the executable does on SIGTERM: drain, then abort past <paramref name="grace"/>.</summary>
    public Task StopAsync(TimeSpan grace) => _server.StopAsync(grace);

    public async ValueTask DisposeAsync()
    {
        await _server.DisposeAsync();
        await Pool.DisposeAsync();
    }
}

/// <summary>A raw-socket HTTP/1.1 client: sends bytes, reads one response exactly.</summary>
internal sealed class TestClient : IDisposable
{
    private readonly TcpClient _client;
    private readonly NetworkStream _stream;
    private readonly List<byte> _pending = [];

    public TestClient(TcpClient client)
    {
        _client = client;
        _stream = client.GetStream();
    }

    public Task SendAsync(string text) => _stream.WriteAsync(Encoding.Latin1.GetBytes(text)).AsTask();

    public Task SendAsync(byte[] bytes) => _stream.WriteAsync(bytes).AsTask();

    /// <summary>Reads a response head: status and headers (names lower-cased).</summary>
    public async Task<(int Status, Dictionary<string, string> Headers, string Raw)> ReadHeadAsync()
    {
        while (true)
        {
            var text = Encoding.Latin1.GetString([.. _pending]);
            var end = text.IndexOf("\r\n\r\n", StringComparison.Ordinal);
            if (end >= 0)
            {
                _pending.RemoveRange(0, end + 4);
                var lines = text[..end].Split("\r\n");
                var status = int.Parse(lines[0].Split(' ')[1], System.Globalization.CultureInfo.InvariantCulture);
                var headers = new Dictionary<string, string>();
                foreach (var line in lines.Skip(1))
                {
                    var colon = line.IndexOf(':', StringComparison.Ordinal);
                    var name = line[..colon].ToLowerInvariant();
                    headers[name] = headers.TryGetValue(name, out var v) ? v + ", " + line[(colon + 1)..].Trim() : line[(colon + 1)..].Trim();
                }

                return (status, headers, text[..(end + 4)]);
            }

            if (!await FillAsync())
            {
                throw new IOException("closed before a response head");
            }
        }
    }

    /// <summary>Reads a whole response (CL or chunked; bodyless for HEAD/204/304).</summary>
    public async Task<(int Status, Dictionary<string, string> Headers, string Body)> ReadResponseAsync(bool head = false)
    {
        var (status, headers, _) = await ReadHeadAsync();
        if (head || status is 204 or 304 || status < 200)
        {
            return (status, headers, string.Empty);
        }

        if (headers.TryGetValue("content-length", out var cl))
        {
            var bytes = await ReadExactlyAsync(int.Parse(cl, System.Globalization.CultureInfo.InvariantCulture));
            return (status, headers, Encoding.Latin1.GetString(bytes));
        }

        var body = new StringBuilder();
        while (true)
        {
            var size = Convert.ToInt32(await ReadLineAsync(), 16);
            if (size == 0)
            {
                await ReadLineAsync();
                return (status, headers, body.ToString());
            }

            body.Append(Encoding.Latin1.GetString(await ReadExactlyAsync(size)));
            await ReadLineAsync();
        }
    }

    public async Task<string> ReadLineAsync()
    {
        while (true)
        {
            var index = _pending.IndexOf((byte)'\n');
            if (index >= 0)
            {
                var line = Encoding.Latin1.GetString([.. _pending.GetRange(0, index)]).TrimEnd('\r');
                _pending.RemoveRange(0, index + 1);
                return line;
            }

            if (!await FillAsync())
            {
                throw new IOException("closed");
            }
        }
    }

    public async Task<byte[]> ReadExactlyAsync(int count)
    {
        while (_pending.Count < count)
        {
            if (!await FillAsync())
            {
                throw new IOException("closed");
            }
        }

        var bytes = _pending.GetRange(0, count).ToArray();
        _pending.RemoveRange(0, count);
        return bytes;
    }

    /// <summary>Reads until the server closes; returns everything after what was already consumed.</summary>
    public async Task<string> ReadToCloseAsync(TimeSpan timeout)
    {
        using var cts = new CancellationTokenSource(timeout);
        var buffer = new byte[16 * 1024];
        try
        {
            while (true)
            {
                var read = await _stream.ReadAsync(buffer, cts.Token);
                if (read == 0)
                {
                    break;
                }

                _pending.AddRange(buffer.AsSpan(0, read).ToArray());
            }
        }
        catch (Exception ex) when (ex is IOException or OperationCanceledException)
        {
        }

        var text = Encoding.Latin1.GetString([.. _pending]);
        _pending.Clear();
        return text;
    }

    private async Task<bool> FillAsync()
    {
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(15));
        var buffer = new byte[16 * 1024];
        var read = await _stream.ReadAsync(buffer, cts.Token);
        if (read == 0)
        {
            return false;
        }

        _pending.AddRange(buffer.AsSpan(0, read).ToArray());
        return true;
    }

    public void Dispose()
    {
        _stream.Dispose();
        _client.Dispose();
    }
}
