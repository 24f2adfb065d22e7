using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Net.WebSockets;
using System.Security.Authentication;
using System.Security.Cryptography.X509Certificates;
using Gatehouse.Wire;

namespace Gatehouse.Http1.WebSockets;

/// <summary>
/// The client side of a secure stream to another node (issue 6): trusts the server by its key pin
/// alone — no DNS name, no CA — and proves itself with a client certificate.
/// </summary>
public static class GatehouseWebSocket
{
    /// <summary>
    /// Connects to <paramref name="uri"/> (<c>wss://</c>; IPv4, IPv6, link-local with a zone such as
    /// <c>wss://[fe80::1%25eth0]:8443/</c>, or a host name), and returns the open stream.
    /// 1. TCP connect to each address in turn; 2. TLS with the client certificate, accepting only a
    /// server key whose pin is <paramref name="expectedServerPin"/>; 3. the HTTP/1.1 upgrade, checking
    /// <c>Sec-WebSocket-Accept</c>; 4. framing by the framework with keep-alive. Steps 1–3 are bounded
    /// by <see cref="GatehouseWebSocketOptions.ConnectTimeout"/>.
    /// </summary>
    /// <exception cref="ServerPinMismatchException">The server's key is not the pinned one.</exception>
    /// <exception cref="WebSocketException">The connection or the upgrade failed (the message says which).</exception>
    /// <exception cref="TimeoutException">Not connected within the connect timeout.</exception>
    public static async Task<WebSocket> ConnectAsync(Uri uri, string expectedServerPin, X509Certificate2 clientCertificate, GatehouseWebSocketOptions? options = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(clientCertificate);
        if (!KeyPin.IsWellFormed(expectedServerPin))
        {
            throw new ArgumentException("expected a pin like sha256//<base64 of 32 bytes>", nameof(expectedServerPin));
        }

        options ??= new GatehouseWebSocketOptions();
        var address = WssAddress.Parse(uri);
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(options.ConnectTimeout);
        Stream? stream = null;
        try
        {
            var socket = await ConnectSocketAsync(address, timeout.Token).ConfigureAwait(false);
            var tls = new SslStream(new NetworkStream(socket, ownsSocket: true), leaveInnerStreamOpen: false);
            stream = tls;
            await AuthenticateAsync(tls, address, expectedServerPin, clientCertificate, timeout.Token).ConfigureAwait(false);
            var subProtocol = await ClientUpgrade.RunAsync(tls, address, options.SubProtocols, timeout.Token).ConfigureAwait(false);
            var framed = WebSocket.CreateFromStream(tls, new WebSocketCreationOptions
            {
                IsServer = false,
                SubProtocol = subProtocol,
                KeepAliveInterval = options.KeepAliveInterval,
                KeepAliveTimeout = options.KeepAliveTimeout,
            });
            stream = null; // the WebSocket owns it now
            return new GuardedWebSocket(framed, options.MaxMessageBytes, "client").Opened();
        }
        catch (OperationCanceledException) when (timeout.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
        {
            throw new TimeoutException($"no websocket to {uri} within {options.ConnectTimeout.TotalSeconds:0.###} s");
        }
        catch (IOException ex)
        {
            throw new WebSocketException(WebSocketError.ConnectionClosedPrematurely,
                $"connection to {uri} failed during the upgrade: {ex.Message} (was our client certificate refused?)", ex);
        }
        finally
        {
            if (stream is not null)
            {
                await stream.DisposeAsync().ConfigureAwait(false);
            }
        }
    }

    private static async Task<Socket> ConnectSocketAsync(WssAddress address, CancellationToken cancellationToken)
    {
        IPAddress[] candidates = address.Literal is { } literal
            ? [literal]
            : await Dns.GetHostAddressesAsync(address.Host, cancellationToken).ConfigureAwait(false);
        SocketException? last = null;
        foreach (var candidate in candidates)
        {
            var socket = new Socket(candidate.AddressFamily, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
            try
            {
                await socket.ConnectAsync(new IPEndPoint(candidate, address.Port), cancellationToken).ConfigureAwait(false);
                return socket;
            }
            catch (SocketException ex)
            {
                last = ex;
                socket.Dispose();
            }
            catch
            {
                socket.Dispose();
                throw;
            }
        }

        throw new WebSocketException(WebSocketError.Faulted, $"cannot connect to {address.Host} port {address.Port}: {last?.Message ?? "no address"}", last);
    }

    private static async Task AuthenticateAsync(SslStream tls, WssAddress address, string expectedPin, X509Certificate2 clientCertificate, CancellationToken cancellationToken)
    {
        var check = new ServerPinCheck([expectedPin]);
        var options = check.CreateOptions(
            address.Literal is null ? address.Host : string.Empty,
            SslStreamCertificateContext.Create(clientCertificate, additionalCertificates: null, offline: true));

        try
        {
            await tls.AuthenticateAsClientAsync(options, cancellationToken).ConfigureAwait(false);
        }
        catch (AuthenticationException ex) when (check.Mismatch)
        {
            throw new ServerPinMismatchException(expectedPin, check.PresentedPin, ex);
        }
    }
}
