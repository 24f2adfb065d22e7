using System.Buffers;
using System.Text;

namespace Gatehouse.Wire;

/// <summary>
/// How a refused client is told why (issue 19 item 4), so curl, openssl s_client and a browser show a
/// reason instead of "Empty reply from server". Each refusal reason has the TLS alert that names it
/// (RFC 8446 §6.2; RFC 5246 §7.2) and a sentence for a person.
/// Why SslStream cannot send these alerts itself on .NET 10/Linux (dotnet/runtime release/10.0):
/// pal_ssl.c's verify_callback accepts every certificate ("Real verification happens in managed
/// code"), so OpenSSL finishes the handshake; SslStream judges the certificate afterwards and asks
/// SslStreamPal.Unix.ApplyAlertToken for the alert, which does nothing ("no exposed API for writing
/// an alert"); the socket just closes. (Later runtimes judge inside OpenSSL's verify callback, but with
/// a RemoteCertificateValidationCallback any refusal becomes X509_V_ERR_APPLICATION_VERIFICATION, i.e.
/// handshake_failure: the reason is still lost.) So:
/// - TLS 1.2: the server's last flight was held back (<see cref="ConnectionStream.HoldWrites"/>), so
///   the client still reads plaintext records and gets a fatal alert with that name.
/// - TLS 1.3: the server's Finished went out before the client's certificate came (RFC 8446 §4.4.2.4),
///   so any alert must be encrypted, which only SslStream could do. The handshake is let finish
///   instead and the client gets a short plain-text 403 that names the alert, then close_notify, as
///   nginx answers a bad client certificate with a page rather than an alert. Nothing it sent is parsed.
/// </summary>
internal sealed class HandshakeRefusal
{
    // RFC 8446 §6.2 / RFC 5246 §7.2 alert descriptions.
    private const byte HandshakeFailure = 40;
    private const byte BadCertificate = 42;
    private const byte UnsupportedCertificate = 43;
    private const byte CertificateRevoked = 44;
    private const byte CertificateExpired = 45;
    private const byte CertificateUnknown = 46;
    private const byte UnknownCa = 48;

    private static readonly HandshakeRefusal s_noCertificate = new(
        "certificate_required", HandshakeFailure,
        "no client certificate was sent; this port lets in only clients that present a trusted one (curl: --cert FILE --key FILE; a browser: import the certificate).");

    private static readonly HandshakeRefusal s_denied = new(
        "certificate_revoked", CertificateRevoked, "this certificate's key has been denied by the gateway's owner.");

    private static readonly HandshakeRefusal s_expired = new(
        "certificate_expired", CertificateExpired, "your certificate has expired; ask for a new one.");

    private static readonly HandshakeRefusal s_issuerExpired = new(
        "certificate_expired", CertificateExpired, "the CA certificate that issued yours has expired.");

    private static readonly HandshakeRefusal s_notYetValid = new(
        "bad_certificate", BadCertificate, "your certificate is not valid yet; check the clocks.");

    private static readonly HandshakeRefusal s_notForClientAuth = new(
        "unsupported_certificate", UnsupportedCertificate, "your certificate is not for client authentication (its extendedKeyUsage lacks clientAuth).");

    private static readonly HandshakeRefusal s_unknownIssuer = new(
        "unknown_ca", UnknownCa, "your certificate was not issued by a CA this gateway trusts, and its key is not on the gateway's list.");

    private static readonly HandshakeRefusal s_badSignature = new(
        "bad_certificate", BadCertificate, "your certificate's signature does not verify.");

    private static readonly HandshakeRefusal s_invalidChain = new(
        "bad_certificate", BadCertificate, "your certificate's chain to the trusted CA is not valid.");

    private static readonly HandshakeRefusal s_caCertificate = new(
        "bad_certificate", BadCertificate, "a CA certificate cannot be used as a client certificate.");

    private static readonly HandshakeRefusal s_weakKey = new(
        "bad_certificate", BadCertificate, "your certificate's key is too weak (RSA 2048 or P-256 at least).");

    private static readonly HandshakeRefusal s_weakSignature = new(
        "bad_certificate", BadCertificate, "your certificate is signed with SHA-1 or MD5.");

    private static readonly HandshakeRefusal s_other = new(
        "certificate_unknown", CertificateUnknown, "your certificate was refused.");

    private readonly byte[] _tls12Alert;
    private readonly byte[] _answer;

    private HandshakeRefusal(string alertName, byte tls12Alert, string sentence)
    {
        AlertName = alertName;
        // A fatal alert in a plaintext TLS 1.2 record: type 21, version 3.3, length 2, level 2, description.
        _tls12Alert = [21, 3, 3, 0, 2, 2, tls12Alert];
        string body = $"Refused (TLS alert {alertName}): {sentence}\n";
        _answer = Encoding.ASCII.GetBytes(
            $"HTTP/1.1 403 Forbidden\r\nContent-Type: text/plain; charset=utf-8\r\nConnection: close\r\nContent-Length: {body.Length}\r\n\r\n{body}");
    }

    /// <summary>The TLS 1.3 name of the alert (TLS 1.2 has no certificate_required: it gets handshake_failure, RFC 5246 §7.4.6).</summary>
    public string AlertName { get; }

    /// <summary>The refusal for a <see cref="ClientTrust.Reasons"/> reason.</summary>
    public static HandshakeRefusal For(string reason) => reason switch
    {
        ClientTrust.Reasons.NoCertificate => s_noCertificate,
        ClientTrust.Reasons.DeniedKey => s_denied,
        ClientTrust.Reasons.Expired => s_expired,
        ClientTrust.Reasons.IssuerExpired => s_issuerExpired,
        ClientTrust.Reasons.NotYetValid => s_notYetValid,
        ClientTrust.Reasons.NotForClientAuth => s_notForClientAuth,
        ClientTrust.Reasons.UnknownIssuer => s_unknownIssuer,
        ClientTrust.Reasons.BadSignature => s_badSignature,
        ClientTrust.Reasons.InvalidChain => s_invalidChain,
        ClientTrust.Reasons.CaCertificate => s_caCertificate,
        ClientTrust.Reasons.WeakKey => s_weakKey,
        ClientTrust.Reasons.WeakSignature => s_weakSignature,
        _ => s_other,
    };

    /// <summary>
    /// TLS 1.2 (the server's last flight held back): drops that flight and sends the alert instead.
    /// Any failure means the client is gone; there is no one left to tell.
    /// </summary>
    public async ValueTask SendAlertAsync(ConnectionStream transport, CancellationToken cancellationToken)
    {
        transport.DiscardHeld();
        try
        {
            await transport.WriteAsync(_tls12Alert, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (Disconnects.IsExpectedInHandshake(ex))
        {
        }
    }

    /// <summary>
    /// TLS 1.3: sends what the handshake held (its records are numbered, none may be skipped), the 403
    /// and close_notify, then reads and drops what the client sent until it closes, so closing does
    /// not reset the connection before the client has read the answer.
    /// </summary>
    public async ValueTask SayInWordsAsync(Stream tls, ConnectionStream transport, CancellationToken cancellationToken)
    {
        try
        {
            await transport.ReleaseHeldAsync(cancellationToken).ConfigureAwait(false);
            await tls.WriteAsync(_answer, cancellationToken).ConfigureAwait(false);
            if (tls is System.Net.Security.SslStream ssl)
            {
                await ssl.ShutdownAsync().ConfigureAwait(false);
            }

            transport.CloseForWriting();
            byte[] scratch = ArrayPool<byte>.Shared.Rent(4096);
            try
            {
                // At most 64 KiB and the handshake deadline: a refused client holds nothing longer.
                for (int total = 0; total < 65536;)
                {
                    int read = await transport.ReadAsync(scratch, cancellationToken).ConfigureAwait(false);
                    if (read == 0)
                    {
                        break;
                    }

                    total += read;
                }
            }
            finally
            {
                ArrayPool<byte>.Shared.Return(scratch);
            }
        }
        catch (Exception ex) when (Disconnects.IsExpectedInHandshake(ex))
        {
        }
    }
}
