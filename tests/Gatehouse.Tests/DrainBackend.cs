using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace Gatehouse.Tests;

/// <summary>
/// A backend for the shutdown drain tests (issue 18 item 3), answering by the last path segment:
/// <c>slow</c> after 2 s (Content-Length), <c>stream</c> 30 bytes one every 100 ms (chunked),
/// <c>feed</c> an event every 200 ms forever (chunked <c>text/event-stream</c>), <c>ws</c> a 101 and
/// then a WebSocket text frame every 200 ms forever, <c>hang</c> never (until the gateway closes that
/// connection; <see cref="Hanging"/> counts them), anything else "ok" at once (keep-alive). Each
/// answer's start completes <see cref="Started"/>.
/// </summary>
internal sealed class DrainBackend : IAsyncDisposable
{
    public const int StreamBytes = 30;
    public static readonly TimeSpan SlowDelay = TimeSpan.FromSeconds(2);

    private readonly Socket _listener;
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _loop;
    private readonly List<Task> _connections = [];
    private readonly TaskCompletionSource<string> _started = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private int _hanging;
    private int _hangsStarted;

    public DrainBackend()
    {
        _listener = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        _listener.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        Port = ((IPEndPoint)_listener.LocalEndPoint!).Port;
        _listener.Listen(512); // a burst of proxied requests connects at once
        _loop = AcceptLoopAsync();
    }

    public int Port { get; }

    /// <summary>Completes with the path of the first request head that reached the backend.</summary>
    public Task<string> Started => _started.Task;

    /// <summary><c>hang</c> requests whose connection the gateway still holds open.</summary>
    public int Hanging => Volatile.Read(ref _hanging);

    /// <summary><c>hang</c> requests that ever reached the backend.</summary>
    public int HangsStarted => Volatile.Read(ref _hangsStarted);

    /// <summary>Polls <see cref="Hanging"/> until it satisfies <paramref name="done"/>; the count last seen.</summary>
    public async Task<int> WaitForHangingAsync(Func<int, bool> done, TimeSpan timeout)
    {
        var deadline = Stopwatch.StartNew();
        while (!done(Hanging))
        {
            if (deadline.Elapsed > timeout)
            {
                throw new TimeoutException($"hanging requests stayed at {Hanging}");
            }

            await Task.Delay(10);
        }

        return Hanging;
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        _listener.Dispose();
        await Task.WhenAll([_loop, .. _connections]).WaitAsync(TimeSpan.FromSeconds(10)).ContinueWith(_ => { }, TaskScheduler.Default);
        _stop.Dispose();
    }

    private async Task AcceptLoopAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            Socket client;
            try
            {
                client = await _listener.AcceptAsync(_stop.Token);
            }
            catch (Exception ex) when (ex is OperationCanceledException or ObjectDisposedException or SocketException)
            {
                return;
            }

            lock (_connections)
            {
                _connections.Add(ServeAsync(client));
            }
        }
    }

    private async Task ServeAsync(Socket socket)
    {
        using var owned = socket;
        await using var stream = new NetworkStream(socket, ownsSocket: false);
        var token = _stop.Token;
        try
        {
            while (true)
            {
                var head = await ReadHeadAsync(stream, token);
                if (head is null)
                {
                    return;
                }

                var path = head.Split(' ')[1];
                _started.TrySetResult(path);
                var name = path[(path.LastIndexOf('/') + 1)..];
                switch (name)
                {
                    case "slow":
                        await Task.Delay(SlowDelay, token);
                        await WriteAsync(stream, "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello", token);
                        break;
                    case "stream":
                        await WriteAsync(stream, "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nTransfer-Encoding: chunked\r\n\r\n", token);
                        for (var i = 0; i < StreamBytes; i++)
                        {
                            await WriteAsync(stream, $"1\r\n{(char)('a' + (i % 26))}\r\n", token);
                            await Task.Delay(100, token);
                        }

                        await WriteAsync(stream, "0\r\n\r\n", token);
                        break;
                    case "feed":
                        await WriteAsync(stream, "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nTransfer-Encoding: chunked\r\n\r\n", token);
                        for (var i = 0; ; i++)
                        {
                            var line = $"data: {i}\n\n";
                            await WriteAsync(stream, $"{line.Length:x}\r\n{line}\r\n", token);
                            await Task.Delay(200, token);
                        }

                    case "ws":
                        await WriteAsync(stream, "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: x\r\n\r\n", token);
                        _ = DiscardAsync(stream, token);
                        while (true)
                        {
                            await stream.WriteAsync(new byte[] { 0x81, 0x02, (byte)'h', (byte)'i' }, token);
                            await Task.Delay(200, token);
                        }

                    case "hang":
                        Interlocked.Increment(ref _hangsStarted);
                        Interlocked.Increment(ref _hanging);
                        try
                        {
                            // Nothing more comes from the gateway: reads end when it closes the connection.
                            var rest = new byte[64];
                            while (await stream.ReadAsync(rest, token) > 0)
                            {
                            }

                            return;
                        }
                        finally
                        {
                            Interlocked.Decrement(ref _hanging);
                        }

                    default:
                        await WriteAsync(stream, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok", token);
                        break;
                }
            }
        }
        catch (Exception ex) when (ex is IOException or SocketException or OperationCanceledException or ObjectDisposedException)
        {
            // The gateway closed its side (or the test ended): this answer is over.
        }
    }

    private static async Task DiscardAsync(Stream stream, CancellationToken token)
    {
        var buffer = new byte[1024];
        try
        {
            while (await stream.ReadAsync(buffer, token) > 0)
            {
            }
        }
        catch (Exception ex) when (ex is IOException or SocketException or OperationCanceledException or ObjectDisposedException)
        {
            // closed
        }
    }

    private static Task WriteAsync(Stream stream, string text, CancellationToken token) =>
        stream.WriteAsync(Encoding.ASCII.GetBytes(text), token).AsTask();

    /// <summary>Reads one request head (the drain tests send no bodies); null at end of stream.</summary>
    private static async Task<string?> ReadHeadAsync(Stream stream, CancellationToken token)
    {
        var head = new StringBuilder();
        var one = new byte[1];
        while (!head.ToString().EndsWith("\r\n\r\n", StringComparison.Ordinal))
        {
            if (await stream.ReadAsync(one, token) == 0)
            {
                return null;
            }

            head.Append((char)one[0]);
        }

        return head.ToString();
    }
}
