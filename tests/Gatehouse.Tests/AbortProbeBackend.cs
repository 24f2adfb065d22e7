using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace Gatehouse.Tests;

/// <summary>
/// A backend for the client-abort matrix (issue 10) that frames requests properly (Content-Length
/// and chunked) and tracks each connection, so a test can see that an upstream connection left
/// mid-request by an aborted client is closed, and that no connection ever carries bytes that are
/// not a well-formed request (a dirty connection returned to the pool would show as one).
/// Paths: <c>…/slow…</c> answers only when <see cref="Release"/> is called (then closes); <c>…/big…</c> streams a
/// body until the gateway stops reading; an Upgrade request gets 101 and a stream of bytes; anything
/// else reads the body and answers 200 "ok".
/// </summary>
internal sealed class AbortProbeBackend : IAsyncDisposable
{
    private const int BigBodyBytes = 256 << 20;
    private readonly Socket _listener;
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _loop;
    private readonly ConcurrentDictionary<int, Exchange> _busy = new();
    private readonly ConcurrentQueue<string> _faults = new();
    private readonly TaskCompletionSource _received = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource _release = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private int _nextConnection;

    public AbortProbeBackend()
    {
        _listener = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        _listener.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        Port = ((IPEndPoint)_listener.LocalEndPoint!).Port;
        _listener.Listen(64);
        _loop = AcceptLoopAsync();
    }

    public int Port { get; }

    /// <summary>Bytes that were not a well-formed request, per connection.</summary>
    public IReadOnlyCollection<string> Faults => _faults;

    /// <summary>Connections holding a request that was started and not answered in full (or an open tunnel).</summary>
    public IReadOnlyCollection<string> Busy => [.. _busy.Values.Select(e => e.ToString())];

    /// <summary>Completes when a request head has reached the backend.</summary>
    public Task FirstHeadReceived => _received.Task;

    /// <summary>Lets every held <c>/slow</c> request answer.</summary>
    public void Release() => _release.TrySetResult();

    private async Task AcceptLoopAsync()
    {
        while (true)
        {
            Socket client;
            try
            {
                client = await _listener.AcceptAsync(_stop.Token);
            }
            catch (Exception ex) when (ex is OperationCanceledException or SocketException or ObjectDisposedException)
            {
                return;
            }

            _ = ServeAsync(client, Interlocked.Increment(ref _nextConnection));
        }
    }

    private async Task ServeAsync(Socket socket, int id)
    {
        await using var stream = new NetworkStream(socket, ownsSocket: true);
        var input = new ByteReader(stream, _stop.Token);
        try
        {
            while (true)
            {
                var head = await input.ReadHeadAsync();
                if (head is null)
                {
                    return; // closed between requests: a clean end
                }

                var lines = head.Split("\r\n");
                var start = lines[0].Split(' ');
                if (start.Length != 3 || start[2] != "HTTP/1.1" || !start[1].StartsWith('/'))
                {
                    _faults.Enqueue($"connection {id}: not a request line: {lines[0]}");
                    return;
                }

                var exchange = new Exchange(id, lines[0]);
                _busy[id] = exchange;
                _received.TrySetResult();
                if (!await ReadBodyAsync(input, lines, exchange))
                {
                    return; // closed mid-body: the gateway dropped this upstream connection
                }

                var path = start[1];
                var slow = path.Contains("slow", StringComparison.Ordinal);
                if (slow && !await HoldUntilReleasedAsync(input, exchange))
                {
                    return; // the gateway closed the connection while the answer was held
                }

                if (lines.Any(l => l.StartsWith("Upgrade:", StringComparison.OrdinalIgnoreCase)))
                {
                    await stream.WriteAsync("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n"u8.ToArray(), _stop.Token);
                    exchange.State = "tunnel open";
                    await StreamUntilClosedAsync(stream, input, long.MaxValue);
                    return;
                }

                if (slow)
                {
                    // A read is still pending on this connection (the hold's close watch): answer and end it.
                    await stream.WriteAsync("HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok"u8.ToArray(), _stop.Token);
                    return;
                }

                if (path.Contains("big", StringComparison.Ordinal))
                {
                    await stream.WriteAsync(Encoding.ASCII.GetBytes($"HTTP/1.1 200 OK\r\nContent-Length: {BigBodyBytes}\r\n\r\n"), _stop.Token);
                    exchange.State = "sending a big body";
                    if (!await StreamUntilClosedAsync(stream, input: null, BigBodyBytes))
                    {
                        return;
                    }
                }
                else
                {
                    await stream.WriteAsync("HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Type: text/plain\r\n\r\nok"u8.ToArray(), _stop.Token);
                }

                _busy.TryRemove(id, out _);
            }
        }
        catch (Exception ex) when (ex is IOException or SocketException or OperationCanceledException or ObjectDisposedException)
        {
            // Reset or stopped: the connection is gone, which is what Busy reports.
        }
        finally
        {
            _busy.TryRemove(id, out _);
        }
    }

    /// <summary>Holds the answer until <see cref="Release"/>; false when the gateway closed the connection first.</summary>
    private async Task<bool> HoldUntilReleasedAsync(ByteReader input, Exchange exchange)
    {
        exchange.State = "answer held";
        var closed = input.SkipAsync(long.MaxValue);
        var first = await Task.WhenAny(_release.Task, closed).WaitAsync(_stop.Token);
        return first == _release.Task;
    }

    /// <summary>False when the connection ended inside the body.</summary>
    private static async Task<bool> ReadBodyAsync(ByteReader input, string[] lines, Exchange exchange)
    {
        var length = lines.FirstOrDefault(l => l.StartsWith("Content-Length:", StringComparison.OrdinalIgnoreCase));
        if (length is not null)
        {
            exchange.State = "reading a Content-Length body";
            return await input.SkipAsync(long.Parse(length[15..].Trim(), System.Globalization.CultureInfo.InvariantCulture));
        }

        if (!lines.Any(l => l.StartsWith("Transfer-Encoding:", StringComparison.OrdinalIgnoreCase) && l.Contains("chunked", StringComparison.OrdinalIgnoreCase)))
        {
            return true;
        }

        exchange.State = "reading a chunked body";
        while (true)
        {
            var sizeLine = await input.ReadLineAsync();
            if (sizeLine is null)
            {
                return false;
            }

            var size = Convert.ToInt64(sizeLine.Split(';')[0].Trim(), 16);
            if (size == 0)
            {
                // Trailer section: lines until an empty one.
                while (await input.ReadLineAsync() is { } trailer)
                {
                    if (trailer.Length == 0)
                    {
                        return true;
                    }
                }

                return false;
            }

            if (!await input.SkipAsync(size) || await input.ReadLineAsync() is not { Length: 0 })
            {
                return false;
            }
        }
    }

    /// <summary>Writes up to <paramref name="limit"/> bytes (reading and dropping <paramref name="input"/>, if any, meanwhile). False when the peer went away first.</summary>
    private async Task<bool> StreamUntilClosedAsync(NetworkStream stream, ByteReader? input, long limit)
    {
        var draining = input is null ? Task.CompletedTask : input.SkipAsync(long.MaxValue);
        var piece = new byte[64 * 1024];
        for (long sent = 0; sent < limit; sent += piece.Length)
        {
            if (draining.IsCompleted && input is not null)
            {
                return false;
            }

            await stream.WriteAsync(piece.AsMemory(0, (int)Math.Min(piece.Length, limit - sent)), _stop.Token);
        }

        return true;
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        _listener.Dispose();
        await _loop;
        _stop.Dispose();
    }

    private sealed class Exchange(int connection, string requestLine)
    {
        public string State { get; set; } = "head read";

        public override string ToString() => $"connection {connection}: {requestLine} ({State})";
    }

    /// <summary>Buffered reads of lines, heads and counted bytes.</summary>
    private sealed class ByteReader(Stream stream, CancellationToken cancellationToken)
    {
        private readonly byte[] _buffer = new byte[64 * 1024];
        private int _start;
        private int _end;

        public async Task<string?> ReadHeadAsync()
        {
            var head = new StringBuilder();
            while (await ReadLineAsync() is { } line)
            {
                if (line.Length == 0)
                {
                    return head.ToString();
                }

                if (head.Length > 0)
                {
                    head.Append("\r\n");
                }

                head.Append(line);
            }

            return null;
        }

        /// <summary>A CRLF-terminated line without its CRLF; null at the end of the stream.</summary>
        public async Task<string?> ReadLineAsync()
        {
            var line = new StringBuilder();
            while (true)
            {
                if (_start == _end && !await FillAsync())
                {
                    return null;
                }

                var b = _buffer[_start++];
                if (b == '\n' && line.Length > 0 && line[^1] == '\r')
                {
                    return line.ToString(0, line.Length - 1);
                }

                line.Append((char)b);
            }
        }

        /// <summary>Skips <paramref name="count"/> bytes; false when the stream ended first.</summary>
        public async Task<bool> SkipAsync(long count)
        {
            while (count > 0)
            {
                if (_start == _end && !await FillAsync())
                {
                    return false;
                }

                var take = (int)Math.Min(count, _end - _start);
                _start += take;
                count -= take;
            }

            return true;
        }

        private async Task<bool> FillAsync()
        {
            _start = 0;
            _end = await stream.ReadAsync(_buffer, cancellationToken);
            return _end > 0;
        }
    }
}
