using System.Net.Security;
using System.Net.Sockets;
using System.Security.Authentication;
using System.Security.Cryptography.X509Certificates;
using Gatehouse.Wire;

namespace Gatehouse.Proxy;

/// <summary>
/// The client side of a peer link's TLS (issue 8): TLS 1.2/1.3, ALPN http/1.1, this side's
/// certificate, and the server accepted only when its key is one of the peer's pins. The
/// platform's chain and name verdict is ignored on purpose: no CA, no DNS, the pin is the trust.
/// </summary>
internal static class TlsUpstreamHandshake
{
    /// <summary>Runs the handshake on a connected socket; the returned stream owns the socket.</summary>
    /// <exception cref="UpstreamPinMismatchException">The server's key is none of the pins.</exception>
    /// <exception cref="AuthenticationException">The handshake failed otherwise.</exception>
    public static async ValueTask<SslStream> AuthenticateAsync(Socket socket, UpstreamNode node, UpstreamTls tls, CancellationToken cancellationToken)
    {
        var check = new ServerPinCheck(tls.Pins);
        var options = check.CreateOptions(node.EndPoint is System.Net.DnsEndPoint dns ? dns.Host : string.Empty, tls.ClientCertificateContext);

        var stream = new SslStream(new NetworkStream(socket, ownsSocket: true), leaveInnerStreamOpen: false);
        try
        {
            await stream.AuthenticateAsClientAsync(options, cancellationToken).ConfigureAwait(false);
            return stream;
        }
        catch (AuthenticationException ex) when (check.Mismatch)
        {
            await stream.DisposeAsync().ConfigureAwait(false);
            throw new UpstreamPinMismatchException(node.ToString(), check.PresentedPin, ex);
        }
        catch
        {
            await stream.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }
}
