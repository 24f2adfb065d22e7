using System.Net;
using System.Net.Sockets;
using System.Text;

namespace Gatehouse.Proxy.Tests;

/// <summary>
/// An in-process upstream on 127.0.0.1:0 that records the exact bytes it receives and answers as
/// each test scripts it: the script runs once per accepted connection, with that connection's index.
/// </summary>
internal sealed class FakeUpstream : IAsyncDisposable
{
    private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
    private readonly Func<FakeConnection, int, Task> _script;
    private readonly List<Task> _connections = [];
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _accepting;
    private int _accepted;

    public FakeUpstream(Func<FakeConnection, int, Task> script)
    {
        _script = script;
        _listener.Start();
        _accepting = AcceptLoopAsync();
    }

    public Uri Uri => new($"http://127.0.0.1:{Port}/");

    public int Port => ((IPEndPoint)_listener.LocalEndpoint).Port;

    public int Accepted => Volatile.Read(ref _accepted);

    public List<FakeConnection> Connections { get; } = [];

    /// <summary>Everything received on all connections, in accept order.</summary>
    public string AllReceived
    {
        get
        {
            lock (Connections)
            {
                return string.Concat(Connections.Select(c => c.Received));
            }
        }
    }

    private async Task AcceptLoopAsync()
    {
        try
        {
            while (true)
            {
                var socket = await _listener.AcceptSocketAsync(_stop.Token);
                var index = Interlocked.Increment(ref _accepted) - 1;
                var connection = new FakeConnection(socket);
                lock (Connections)
                {
                    Connections.Add(connection);
                    _connections.Add(RunAsync(connection, index));
                }
            }
        }
        catch (Exception ex) when (ex is OperationCanceledException or SocketException or ObjectDisposedException or InvalidOperationException)
        {
            // InvalidOperationException: the listener was stopped before the loop reached AcceptSocketAsync.
        }
    }

    private async Task RunAsync(FakeConnection connection, int index)
    {
        try
        {
            await _script(connection, index);
        }
        catch (Exception ex) when (ex is IOException or SocketException or ObjectDisposedException or OperationCanceledException)
        {
            connection.Failure = ex;
        }
        finally
        {
            connection.Dispose();
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        _listener.Stop();
        await _accepting;
        Task[] running;
        lock (Connections)
        {
            foreach (var c in Connections)
            {
                c.Dispose();
            }

            running = [.. _connections];
        }

        // Scripts end once their sockets are closed; never let a stuck one hide the test's own failure.
        await Task.WhenAny(Task.WhenAll(running), Task.Delay(TimeSpan.FromSeconds(5)));
        _stop.Dispose();
    }
}

/// <summary>One accepted upstream connection with small read helpers.</summary>
internal sealed class FakeConnection : IDisposable
{
    private readonly Socket _socket;
    private readonly NetworkStream _stream;
    private readonly MemoryStream _received = new();
    private readonly List<byte> _pending = [];

    public FakeConnection(Socket socket)
    {
        _socket = socket;
        _stream = new NetworkStream(socket, ownsSocket: true);
    }

    public Exception? Failure { get; set; }

    public string Received
    {
        get
        {
            lock (_received)
            {
                return Encoding.Latin1.GetString(_received.ToArray());
            }
        }
    }

    /// <summary>Reads one request head (through the blank line); null when the peer closed first.</summary>
    public async Task<string?> ReadHeadAsync()
    {
        while (true)
        {
            var text = Encoding.Latin1.GetString([.. _pending]);
            var end = text.IndexOf("\r\n\r\n", StringComparison.Ordinal);
            if (end >= 0)
            {
                _pending.RemoveRange(0, end + 4);
                return text[..(end + 4)];
            }

            if (!await FillAsync())
            {
                return null;
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

    /// <summary>Reads a chunked body raw, through the last chunk and the empty trailer line; returns the raw bytes.</summary>
    public async Task<string> ReadChunkedRawAsync()
    {
        while (true)
        {
            var text = Encoding.Latin1.GetString([.. _pending]);
            var end = text.IndexOf("\r\n0\r\n\r\n", StringComparison.Ordinal);
            if (text.StartsWith("0\r\n\r\n", StringComparison.Ordinal))
            {
                end = -2;
            }

            if (end != -1)
            {
                var length = end + 7;
                _pending.RemoveRange(0, length);
                return text[..length];
            }

            if (!await FillAsync())
            {
                throw new IOException("closed");
            }
        }
    }

    /// <summary>Reads a request head and its Content-Length body, if any.</summary>
    public async Task<(string Head, byte[] Body)?> ReadRequestAsync()
    {
        var head = await ReadHeadAsync();
        if (head is null)
        {
            return null;
        }

        var length = 0;
        foreach (var line in head.Split("\r\n"))
        {
            if (line.StartsWith("Content-Length:", StringComparison.OrdinalIgnoreCase))
            {
                length = int.Parse(line["Content-Length:".Length..].Trim(), System.Globalization.CultureInfo.InvariantCulture);
            }
        }

        return (head, await ReadExactlyAsync(length));
    }

    public Task WriteAsync(string text) => WriteAsync(Encoding.Latin1.GetBytes(text));

    public async Task WriteAsync(byte[] bytes)
    {
        await _stream.WriteAsync(bytes);
        await _stream.FlushAsync();
    }

    /// <summary>True once the peer closed (a read returns 0 or fails).</summary>
    public async Task<bool> WaitForCloseAsync(TimeSpan timeout)
    {
        using var cts = new CancellationTokenSource(timeout);
        try
        {
            var buffer = new byte[4096];
            while (true)
            {
                var read = await _stream.ReadAsync(buffer, cts.Token);
                if (read == 0)
                {
                    return true;
                }
            }
        }
        catch (OperationCanceledException)
        {
            return false;
        }
        catch (IOException)
        {
            return true;
        }
    }

    private async Task<bool> FillAsync()
    {
        var buffer = new byte[16 * 1024];
        var read = await _stream.ReadAsync(buffer);
        if (read == 0)
        {
            return false;
        }

        lock (_received)
        {
            _received.Write(buffer, 0, read);
        }

        _pending.AddRange(buffer.AsSpan(0, read).ToArray());
        return true;
    }

    /// <summary>Closes with a reset (RST) instead of a FIN: linger on with a zero timeout.</summary>
    public void Reset()
    {
        _socket.LingerState = new LingerOption(true, 0);
        Dispose();
    }

    /// <summary>Sends a FIN but keeps reading: whatever the peer sends afterwards is still received.</summary>
    public void ShutdownSend() => _socket.Shutdown(SocketShutdown.Send);

    public void Dispose()
    {
        _stream.Dispose();
        _socket.Dispose();
    }
}
