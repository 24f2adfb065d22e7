using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Cryptography.X509Certificates;
using System.Text;

namespace Gatehouse.Bench.Allocation;

/// <summary>
/// One keep-alive connection that sends a fixed GET and reads one Content-Length response into a
/// reused buffer: no per-request allocation of its own once the connection is up.
/// </summary>
internal sealed class KeepAliveClient : IAsyncDisposable
{
    private readonly Socket _socket;
    private readonly Stream _stream;
    private readonly byte[] _request;
    private readonly byte[] _buffer = new byte[64 * 1024];

    private KeepAliveClient(Socket socket, Stream stream, string path)
    {
        _socket = socket;
        _stream = stream;
        _request = Encoding.ASCII.GetBytes($"GET {path} HTTP/1.1\r\nHost: localhost\r\nUser-Agent: alloc-probe\r\nAccept: */*\r\n\r\n");
    }

    public static async Task<KeepAliveClient> ConnectAsync(int port, string path, X509Certificate2? clientCertificate)
    {
        var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        await socket.ConnectAsync(new IPEndPoint(IPAddress.Loopback, port));
        Stream stream = new NetworkStream(socket, ownsSocket: false);
        if (clientCertificate is not null)
        {
            var tls = new SslStream(stream, leaveInnerStreamOpen: false);
            await tls.AuthenticateAsClientAsync(new SslClientAuthenticationOptions
            {
                TargetHost = "localhost",
                ClientCertificates = [clientCertificate],
                RemoteCertificateValidationCallback = (_, _, _, _) => true, // a probe on loopback, not a trust decision
            });
            stream = tls;
        }

        return new KeepAliveClient(socket, stream, path);
    }

    /// <summary>Sends the request and reads its response; the status code, or throws.</summary>
    // Pooled: when the gateway is slower than the bare backend these awaits go asynchronous, and a
    // new box per request would be counted as the gateway's.
    [System.Runtime.CompilerServices.AsyncMethodBuilder(typeof(Gatehouse.Wire.Async.PooledValueTaskMethodBuilder<>))]
    public async ValueTask<int> GetAsync()
    {
        await _stream.WriteAsync(_request);
        var filled = 0;
        while (true)
        {
            var read = await _stream.ReadAsync(_buffer.AsMemory(filled));
            if (read == 0)
            {
                throw new IOException("the gateway closed the connection");
            }

            filled += read;
            var head = _buffer.AsSpan(0, filled).IndexOf("\r\n\r\n"u8);
            if (head < 0)
            {
                continue;
            }

            var length = ContentLength(_buffer.AsSpan(0, head));
            if (filled >= head + 4 + length)
            {
                return (_buffer[9] - '0') * 100 + (_buffer[10] - '0') * 10 + (_buffer[11] - '0');
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stream.DisposeAsync();
        _socket.Dispose();
    }

    private static int ContentLength(ReadOnlySpan<byte> head)
    {
        var name = "\r\ncontent-length:"u8;
        for (var i = 0; i + name.Length <= head.Length; i++)
        {
            if (System.Text.Ascii.EqualsIgnoreCase(head.Slice(i, name.Length), name))
            {
                var value = head[(i + name.Length)..];
                var end = value.IndexOf("\r\n"u8);
                return int.Parse(value[..(end < 0 ? value.Length : end)].Trim((byte)' '), provider: null);
            }
        }

        throw new IOException("no Content-Length in the response");
    }
}
