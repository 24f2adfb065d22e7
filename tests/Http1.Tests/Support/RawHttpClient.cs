using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Authentication;
using System.Security.Cryptography.X509Certificates;
using Gatehouse.Wire;

namespace Gatehouse.Http1.Tests.Support;

/// <summary>
/// A raw client for socket tests: sends exact bytes (all at once or byte by byte), reads one
/// response at a time, and can assert that the server closes. Every wait has a deadline.
/// </summary>
internal sealed class RawHttpClient : IAsyncDisposable
{
    private static readonly TimeSpan DefaultWait = TimeSpan.FromSeconds(10);
    private readonly Socket _socket;
    private readonly Stream _stream;
    private readonly List<byte> _received = [];
    private readonly byte[] _scratch = new byte[16 * 1024];
    private bool _eof;

    private RawHttpClient(Socket socket, Stream stream)
    {
        _socket = socket;
        _stream = stream;
    }

    /// <summary>True once the server closed its side (read returned 0 or the connection was reset).</summary>
    public bool ServerClosed => _eof;

    /// <summary>This client's end of the connection (the server sees it as the remote end).</summary>
    public IPEndPoint LocalEndPoint => (IPEndPoint)_socket.LocalEndPoint!;

    /// <summary>Bytes received and not yet parsed as a response.</summary>
    public int Pending => _received.Count;

    public static async Task<RawHttpClient> ConnectPlainAsync(IPEndPoint endpoint)
    {
        var socket = new Socket(endpoint.AddressFamily, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        using var cts = new CancellationTokenSource(DefaultWait);
        await socket.ConnectAsync(endpoint, cts.Token);
        return new RawHttpClient(socket, new NetworkStream(socket, ownsSocket: false));
    }

    public static async Task<RawHttpClient> ConnectTlsAsync(IPEndPoint endpoint, X509Certificate2 clientCertificate, string serverPin)
    {
        var socket = new Socket(endpoint.AddressFamily, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        using var cts = new CancellationTokenSource(DefaultWait);
        await socket.ConnectAsync(endpoint, cts.Token);
        var tls = new SslStream(new NetworkStream(socket, ownsSocket: false));
        await tls.AuthenticateAsClientAsync(
            new SslClientAuthenticationOptions
            {
                TargetHost = "localhost",
                ClientCertificates = [clientCertificate],
                ApplicationProtocols = [SslApplicationProtocol.Http11],
                EnabledSslProtocols = SslProtocols.None,
                CertificateRevocationCheckMode = X509RevocationMode.NoCheck,
                RemoteCertificateValidationCallback = (_, cert, _, _) => cert is X509Certificate2 c && KeyPin.Compute(c) == serverPin,
            },
            cts.Token);
        return new RawHttpClient(socket, tls);
    }

    public async Task SendAsync(byte[] bytes)
    {
        using var cts = new CancellationTokenSource(DefaultWait);
        await _stream.WriteAsync(bytes, cts.Token);
        await _stream.FlushAsync(cts.Token);
    }

    public Task SendAsync(string text) => SendAsync(Bytes.Of(text));

    /// <summary>One write (and so, with NoDelay, one TCP segment or TLS record) per byte.</summary>
    public async Task SendByteByByteAsync(byte[] bytes)
    {
        for (var i = 0; i < bytes.Length; i++)
        {
            await SendAsync(bytes[i..(i + 1)]);
        }
    }

    /// <summary>Half-closes: the server sees the end of the request stream but can still answer (plain TCP only).</summary>
    public void ShutdownSend() => _socket.Shutdown(SocketShutdown.Send);

    /// <summary>Reads exactly one response (1xx included); fails if the server closes first.</summary>
    public async Task<RawResponse> ReadResponseAsync(bool headRequest = false, TimeSpan? wait = null)
    {
        using var cts = new CancellationTokenSource(wait ?? DefaultWait);
        while (true)
        {
            var response = RawResponse.TryParse(_received, headRequest, _eof, out var length);
            if (response is not null)
            {
                _received.RemoveRange(0, length);
                return response;
            }

            if (_eof)
            {
                throw new EndOfStreamException($"server closed with {_received.Count} bytes of an unfinished response: {Bytes.Show(_received.ToArray())}");
            }

            await FillAsync(cts.Token);
        }
    }

    /// <summary>Reads responses until the server closes; throws on timeout.</summary>
    public async Task<List<RawResponse>> ReadUntilCloseAsync(TimeSpan? wait = null, bool headRequests = false)
    {
        var responses = new List<RawResponse>();
        using var cts = new CancellationTokenSource(wait ?? DefaultWait);
        while (true)
        {
            var response = RawResponse.TryParse(_received, headRequests, _eof, out var length);
            if (response is not null)
            {
                _received.RemoveRange(0, length);
                responses.Add(response);
                continue;
            }

            if (_eof)
            {
                return responses;
            }

            await FillAsync(cts.Token);
        }
    }

    /// <summary>Asserts the server closes with nothing more to say, within <paramref name="wait"/>.</summary>
    public async Task ExpectCloseAsync(TimeSpan? wait = null)
    {
        var rest = await ReadUntilCloseAsync(wait);
        Assert.Empty(rest);
        Assert.True(_received.Count == 0, "unparsed bytes before the close: " + Bytes.Show(_received.ToArray()));
    }

    /// <summary>True when nothing at all arrives (and no close) within <paramref name="wait"/>.</summary>
    public async Task<bool> StaysSilentAsync(TimeSpan wait)
    {
        using var cts = new CancellationTokenSource(wait);
        try
        {
            await FillAsync(cts.Token);
        }
        catch (OperationCanceledException)
        {
            return _received.Count == 0 && !_eof;
        }

        return false;
    }

    private async Task FillAsync(CancellationToken cancellationToken)
    {
        int read;
        try
        {
            read = await _stream.ReadAsync(_scratch, cancellationToken);
        }
        catch (IOException ex) when (ex.InnerException is SocketException { SocketErrorCode: SocketError.ConnectionReset })
        {
            // The server closed with our bytes unread (RST): a close all the same.
            read = 0;
        }

        if (read == 0)
        {
            _eof = true;
            return;
        }

        _received.AddRange(_scratch.AsSpan(0, read));
    }

    public async ValueTask DisposeAsync()
    {
        await _stream.DisposeAsync();
        _socket.Dispose();
    }
}
