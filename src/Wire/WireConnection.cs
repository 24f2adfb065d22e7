using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Cryptography.X509Certificates;
using Gatehouse.Wire.Tuning;

namespace Gatehouse.Wire;

/// <summary>
/// An accepted connection handed up to Http1: the byte stream (TLS or plain), who is on the other
/// end, and where. Created by <see cref="WireServer"/>, which disposes it after the handler returns.
/// </summary>
public sealed class WireConnection : IAsyncDisposable
{
    private const string Http11 = "http/1.1";

    private readonly ITlsTuning? _tuning;
    private int _disposed;

    internal WireConnection(Stream stream, Socket socket, Principal principal, X509Certificate2? clientCertificate, IPEndPoint remoteEndPoint, IPEndPoint localEndPoint, ListenEndpoint listener, BufferPools buffers, ITlsTuning? tuning, CancellationToken aborted = default)
    {
        _tuning = tuning;
        Aborted = aborted;
        Buffers = buffers;
        Stream = stream;
        Socket = socket;
        Principal = principal;
        ClientCertificate = clientCertificate;
        RemoteEndPoint = remoteEndPoint;
        LocalEndPoint = localEndPoint;
        Listener = listener;
        if (stream is SslStream tls && tls.NegotiatedApplicationProtocol != default)
        {
            // The one protocol offered (TlsAcceptor) is named by a shared string: ToString makes a new one,
            // which every idle connection would keep (issue 9).
            SslApplicationProtocol protocol = tls.NegotiatedApplicationProtocol;
            NegotiatedProtocol = protocol == SslApplicationProtocol.Http11 ? Http11 : protocol.ToString();
        }
    }

    /// <summary>
    /// Fires when the server's shutdown grace is over and the connection is about to be closed. Not
    /// the handler's <c>stopping</c> token, which fires when the drain begins: work in hand goes on
    /// then, and only this one cancels it.
    /// </summary>
    public CancellationToken Aborted { get; }

    /// <summary>The <see cref="SslStream"/> on TLS listeners, the <see cref="NetworkStream"/> on plain ones.</summary>
    public Stream Stream { get; }

    /// <summary>Who is on the other end; never null (<see cref="Principal.Anonymous"/> when no key).</summary>
    public Principal Principal { get; }

    /// <summary>
    /// The certificate the client proved its key with; null when <see cref="Principal"/> has no key.
    /// Kept so that a reload can judge the same key again (<see cref="WireServer.UpdateTrust"/>).
    /// Owned by the server: valid while the handler runs.
    /// </summary>
    public X509Certificate2? ClientCertificate { get; }

    /// <summary>The peer's address; IPv4 clients of a dual-stack listener appear as IPv4, not <c>::ffff:a.b.c.d</c>.</summary>
    public IPEndPoint RemoteEndPoint { get; }

    /// <summary>The local address the peer connected to (IPv4-mapped addresses unmapped, as for the remote).</summary>
    public IPEndPoint LocalEndPoint { get; }

    /// <summary>The listener that accepted the connection.</summary>
    public ListenEndpoint Listener { get; }

    /// <summary>The pools this connection's buffers come from (the server's; <see cref="BufferPools.Shared"/> unless a test counts them).</summary>
    public BufferPools Buffers { get; }

    /// <summary>True when <see cref="Stream"/> is TLS.</summary>
    public bool IsTls => Stream is SslStream;

    /// <summary>The ALPN protocol agreed in the handshake (<c>http/1.1</c>), or null when none was.</summary>
    public string? NegotiatedProtocol { get; }

    /// <summary>
    /// The socket underneath, for sendfile-style zero-copy writes on plain listeners. On TLS listeners
    /// never write to it directly: that would bypass the record layer.
    /// </summary>
    public Socket Socket { get; }

    /// <summary>
    /// Lets the TLS layer give back the buffers its records grew (OpenSSL's memory BIOs keep their
    /// largest size otherwise): for a connection about to wait idle for its next request. Only while
    /// nothing is being read or written; nothing to do on plain listeners, nor where the server's TLS
    /// tuning is off or not available.
    /// </summary>
    public void TrimIdleBuffers()
    {
        if (Stream is SslStream tls)
        {
            _tuning?.TrimIdle(tls);
        }
    }

    /// <summary>Closes the stream and the socket. Safe to call more than once.</summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        try
        {
            await Stream.DisposeAsync().ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is IOException or SocketException or ObjectDisposedException)
        {
            // The peer is already gone; there is nothing left to flush to it.
        }
        finally
        {
            Socket.Dispose();
        }
    }
}
