using System.Net;
using System.Net.Sockets;
using System.Text;

namespace Gatehouse.Bench.Allocation;

/// <summary>
/// A keep-alive HTTP/1.1 backend that answers every request head with the same preallocated
/// ~300-byte JSON response. It allocates nothing per request, so whatever a measured run
/// allocates belongs to what sits between the client and it.
/// </summary>
internal sealed class RawBackend : IAsyncDisposable
{
    private static readonly byte[] Answer = BuildAnswer();
    private readonly Socket _listener = new(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
    private readonly CancellationTokenSource _stop = new();
    private readonly List<Task> _connections = [];
    private readonly Task _accepting;

    public RawBackend()
    {
        _listener.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        _listener.Listen(64);
        _accepting = AcceptAsync();
    }

    public int Port => ((IPEndPoint)_listener.LocalEndPoint!).Port;

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        _listener.Dispose();
        await Task.WhenAll([_accepting, .. _connections]).ContinueWith(_ => { }, TaskScheduler.Default);
        _stop.Dispose();
    }

    private static byte[] BuildAnswer()
    {
        var json = "{\"_id\":\"doc\",\"_rev\":\"1-0123456789abcdef0123456789abcdef\",\"owner\":\"alice\",\"theme\":\"dark\","
            + "\"sync\":{\"enabled\":true,\"interval\":300,\"peers\":[\"phone\",\"laptop\"]},\"note\":\""
            + new string('x', 120) + "\"}";
        return Encoding.ASCII.GetBytes(
            $"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {json.Length}\r\n\r\n{json}");
    }

    private async Task AcceptAsync()
    {
        try
        {
            while (true)
            {
                var socket = await _listener.AcceptAsync(_stop.Token);
                socket.NoDelay = true;
                lock (_connections)
                {
                    _connections.Add(ServeAsync(socket));
                }
            }
        }
        catch (Exception ex) when (ex is OperationCanceledException or SocketException or ObjectDisposedException)
        {
            // stopping
        }
    }

    private async Task ServeAsync(Socket socket)
    {
        using var _ = socket;
        var buffer = new byte[16 * 1024];
        var filled = 0;
        try
        {
            while (true)
            {
                var read = await socket.ReceiveAsync(buffer.AsMemory(filled), SocketFlags.None, _stop.Token);
                if (read == 0)
                {
                    return;
                }

                filled += read;
                int end;
                while ((end = buffer.AsSpan(0, filled).IndexOf("\r\n\r\n"u8)) >= 0)
                {
                    await socket.SendAsync(Answer, SocketFlags.None, _stop.Token);
                    var consumed = end + 4;
                    buffer.AsSpan(consumed, filled - consumed).CopyTo(buffer);
                    filled -= consumed;
                }
            }
        }
        catch (Exception ex) when (ex is OperationCanceledException or SocketException)
        {
            // stopping or the gateway closed the connection
        }
    }
}
