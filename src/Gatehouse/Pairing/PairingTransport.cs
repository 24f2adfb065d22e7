using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Authentication;
using System.Security.Cryptography.X509Certificates;
using Gatehouse.Wire;

namespace Gatehouse.Pairing;

/// <summary>
/// The TLS of pairing: each side presents its own device key (the one its gateway presents, so the
/// pin recorded now is the pin the peer link will see) and accepts any key from the other side —
/// nothing is trusted yet — but records its pin, which the code is then bound to. A connector given
/// the expected pin refuses any other key before a single message is exchanged.
/// </summary>
internal static class PairingTransport
{
    /// <summary>Its own ALPN name, so a pairing connection is never mistaken for HTTP on a gateway port.</summary>
    private static readonly SslApplicationProtocol Protocol = new("gatehouse-pair/1");

    public static async Task<(SslStream Stream, string RemotePin)> AcceptAsync(Socket socket, ServerIdentity identity, CancellationToken cancellationToken)
    {
        string? remotePin = null;
        var stream = new SslStream(new NetworkStream(socket, ownsSocket: true), leaveInnerStreamOpen: false);
        try
        {
            await stream.AuthenticateAsServerAsync(
                new SslServerAuthenticationOptions
                {
                    ServerCertificateContext = identity.CertificateContext,
                    ClientCertificateRequired = true,
                    ApplicationProtocols = [Protocol],
                    EnabledSslProtocols = SslProtocols.Tls13,
                    CertificateRevocationCheckMode = X509RevocationMode.NoCheck,
                    RemoteCertificateValidationCallback = (_, certificate, _, _) => (remotePin = PinOf(certificate)) is not null,
                },
                cancellationToken).ConfigureAwait(false);
            return (stream, remotePin ?? throw new AuthenticationException("the other device presented no certificate"));
        }
        catch
        {
            await stream.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    /// <exception cref="PairingException">The listener presented another key than <paramref name="expectedPin"/>.</exception>
    public static async Task<(SslStream Stream, string RemotePin)> ConnectAsync(EndPoint endPoint, ServerIdentity identity, string? expectedPin, CancellationToken cancellationToken)
    {
        var socket = new Socket(SocketType.Stream, ProtocolType.Tcp);
        SslStream? stream = null;
        string? remotePin = null;
        try
        {
            await socket.ConnectAsync(endPoint, cancellationToken).ConfigureAwait(false);
            stream = new SslStream(new NetworkStream(socket, ownsSocket: true), leaveInnerStreamOpen: false);
            await stream.AuthenticateAsClientAsync(
                new SslClientAuthenticationOptions
                {
                    TargetHost = string.Empty, // RFC 6066 §3: no SNI for an address; the key is what counts
                    ClientCertificateContext = identity.CertificateContext,
                    ApplicationProtocols = [Protocol],
                    EnabledSslProtocols = SslProtocols.Tls13,
                    CertificateRevocationCheckMode = X509RevocationMode.NoCheck,
                    RemoteCertificateValidationCallback = (_, certificate, _, _) =>
                        (remotePin = PinOf(certificate)) is not null && (expectedPin is null || remotePin == expectedPin),
                },
                cancellationToken).ConfigureAwait(false);
            return (stream, remotePin!);
        }
        catch (AuthenticationException ex) when (expectedPin is not null && remotePin is not null && remotePin != expectedPin)
        {
            await DisposeAsync(stream, socket).ConfigureAwait(false);
            throw new PairingException($"the device at {endPoint} presented {remotePin}, not the expected {expectedPin}; nothing was sent", ex);
        }
        catch
        {
            await DisposeAsync(stream, socket).ConfigureAwait(false);
            throw;
        }
    }

    private static async Task DisposeAsync(SslStream? stream, Socket socket)
    {
        if (stream is not null)
        {
            await stream.DisposeAsync().ConfigureAwait(false);
        }

        socket.Dispose();
    }

    private static string? PinOf(X509Certificate? certificate)
    {
        switch (certificate)
        {
            case null:
                return null;
            case X509Certificate2 full:
                return KeyPin.Compute(full);
            default:
                using (var copy = X509CertificateLoader.LoadCertificate(certificate.GetRawCertData()))
                {
                    return KeyPin.Compute(copy);
                }
        }
    }
}
