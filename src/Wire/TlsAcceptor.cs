using System.Net.Security;
using System.Security.Authentication;
using System.Security.Cryptography.X509Certificates;
using Gatehouse.Wire.Tuning;
using Microsoft.Extensions.Logging;

namespace Gatehouse.Wire;

/// <summary>
/// Runs the server side of one TLS handshake and decides who the client is. The client key is judged
/// by <see cref="ClientTrust"/> inside the handshake, so an untrusted key fails the handshake itself
/// (in TLS 1.3 the client may notice only on its first read: RFC 8446 §4.4.2.4 has the server send
/// its alert after the client's Finished).
/// The identity and trust come in per handshake (the <c>keys</c> of <see cref="AcceptAsync"/>),
/// so a reload changes them for the next handshake without touching those in progress.
/// </summary>
internal sealed class TlsAcceptor(WireLimits limits, ITlsTuning tuning, ILogger logger)
{
    /// <summary>Reused sources are kept for at most this many handshakes at once (~300 bytes each while kept).</summary>
    private const int MaxReusedDeadlines = 1024;

    private readonly HandshakeDeadlines _deadlines = new(limits.HandshakeTimeout, Math.Min(limits.MaxPendingHandshakes, MaxReusedDeadlines));

    /// <summary>
    /// Authenticates the server side with <paramref name="keys"/>; returns the stream, the principal and
    /// the client certificate (the stream's RemoteCertificate, kept so the connection can be re-judged
    /// after a reload; valid until the stream is disposed), or null (already logged) when refused or failed.
    /// </summary>
    public async Task<(SslStream Stream, Principal Principal, X509Certificate2? ClientCertificate)?> AcceptAsync(
        GateKeys keys, Stream transport, ListenEndpoint listener, string listenerText, string remote, CancellationToken stopping)
    {
        ServerIdentity identity = keys.Identity ?? throw new InvalidOperationException("a TLS listener needs a server identity");
        var check = new ClientCertificateCheck(keys.Trust, listener.ClientCertificate);
        var tls = new JudgedSslStream(transport) { Check = check };
        bool keep = false;
        HandshakeDeadlines.Deadline deadline = _deadlines.Start(stopping);
        // Where a key is judged, the server's last flight waits for the judgement, so a refusal can
        // still be an alert (HandshakeRefusal); on other listeners nothing is held.
        ConnectionStream? held = listener.ClientCertificate != ClientCertificateMode.None ? transport as ConnectionStream : null;
        held?.HoldWrites();
        bool told = false;
        try
        {
            await tls.AuthenticateAsServerAsync(Options(identity, listener.ClientCertificate, check, tuning.CanShareContexts), deadline.Token).ConfigureAwait(false);

            Principal? principal = check.Decision switch
            {
                { Principal: { } trusted } => trusted,
                // The platform may skip the callback when no certificate came: Required still refuses.
                null when listener.ClientCertificate != ClientCertificateMode.Required => Principal.Anonymous,
                _ => null,
            };
            if (principal is null)
            {
                string reason = check.Decision?.RefusalReason ?? ClientTrust.Reasons.NoCertificate;
                WireLog.Refused(logger, remote, listenerText, reason);
                WireMetrics.Handshake("refused", reason);
                told = true;
                // The session finished (TLS 1.3, or no certificate came): its context forbids resumption
                // all the same, even when no key has been let in on it yet.
                tuning.TuneRefused(tls);
                await TellRefusedAsync(tls, held, tls.SslProtocol, reason, deadline.Token).ConfigureAwait(false);
                return null;
            }

            if (held is not null)
            {
                await held.ReleaseHeldAsync(deadline.Token).ConfigureAwait(false);
            }

            WireMetrics.Handshake("ok");
            tuning.TuneAdmitted(tls);
            keep = true;
            // An anonymous principal has nothing to re-judge.
            X509Certificate2? certificate = principal.HasKey ? check.TakeCertificate() : null;
            return (tls, principal, certificate);
        }
        catch (Exception) when (check.Decision is { RefusalReason: { } reason } && !told)
        {
            WireLog.Refused(logger, remote, listenerText, reason);
            WireMetrics.Handshake("refused", reason);
            if (check.Protocol is { } protocol)
            {
                await TellRefusedAsync(tls, held, protocol, reason, deadline.Token).ConfigureAwait(false);
            }

            return null;
        }
        catch (OperationCanceledException) when (deadline.IsCancellationRequested && !stopping.IsCancellationRequested)
        {
            WireLog.HandshakeTimedOut(logger, remote, limits.HandshakeTimeout);
            WireMetrics.Handshake("timeout");
            return null;
        }
        catch (Exception ex) when (transport is ConnectionStream { FirstByte: >= 'A' and <= 'Z' } plain && Disconnects.IsExpectedInHandshake(ex))
        {
            // A request line where a TLS record should be: say so in words, as nginx does, rather
            // than leave curl with "Empty reply from server".
            WireLog.HandshakeFailed(logger, remote, "plain HTTP on a TLS port");
            WireMetrics.Handshake("failed");
            await PlainHttpRefusal.SendAsync(plain).ConfigureAwait(false);
            return null;
        }
        catch (Exception ex) when (Disconnects.IsExpectedInHandshake(ex))
        {
            WireLog.HandshakeFailed(logger, remote, ex.Message);
            WireMetrics.Handshake("failed");
            return null;
        }
        finally
        {
            // The stream keeps its options (and so the shared callback) for life, but not this handshake's check.
            tls.Check = null;
            // Whatever ended the handshake, nothing stays held (a failed one's bytes go nowhere).
            held?.DiscardHeld();
            _deadlines.Finish(deadline);
            if (!keep)
            {
                await tls.DisposeAsync().ConfigureAwait(false);
            }
        }
    }

    /// <summary>
    /// Tells a refused client why (HandshakeRefusal): an alert in TLS 1.2, a 403 in words in TLS 1.3.
    /// Without a held transport (a stream other than the server's own) the client is not told.
    /// </summary>
    private static async ValueTask TellRefusedAsync(SslStream tls, ConnectionStream? held, SslProtocols protocol, string reason, CancellationToken deadline)
    {
        if (held is null)
        {
            return;
        }

        HandshakeRefusal refusal = HandshakeRefusal.For(reason);
        if (protocol == SslProtocols.Tls13)
        {
            await refusal.SayInWordsAsync(tls, held, deadline).ConfigureAwait(false);
        }
        else if (protocol == SslProtocols.Tls12)
        {
            await refusal.SendAlertAsync(held, deadline).ConfigureAwait(false);
        }
    }

    /// <summary>
    /// The ALPN list of every handshake: SslStream keeps the list it is given for its whole life, so one
    /// per handshake was a list and an array more on every idle connection (issue 9). Never changed.
    /// </summary>
    private static readonly List<SslApplicationProtocol> s_http11 = [SslApplicationProtocol.Http11];

    private static SslServerAuthenticationOptions Options(ServerIdentity identity, ClientCertificateMode mode, ClientCertificateCheck check, bool shareContext)
    {
        bool askForCertificate = mode != ClientCertificateMode.None;
        return new SslServerAuthenticationOptions
        {
            ServerCertificateContext = identity.CertificateContext,
            EnabledSslProtocols = SslProtocols.Tls12 | SslProtocols.Tls13,
            ApplicationProtocols = s_http11,
            ClientCertificateRequired = askForCertificate,
            CertificateRevocationCheckMode = X509RevocationMode.NoCheck,
            // On .NET/Linux a resumed TLS 1.3 session can report no client certificate (the key was
            // checked on the first connection only, and RemoteCertificate comes back null), so a
            // returning client would lose its principal. Turning resumption off when certificates are
            // asked for is the chosen fix: every connection presents and proves its key.
            // But .NET ties resumption to sharing one SSL_CTX: without it, each connection builds its
            // own (~12 KiB held while open, and SSL_CTX_new in every handshake). So where the tuning
            // can forbid resumption on the shared context itself (after each handshake), the context is shared.
            AllowTlsResume = shareContext || !askForCertificate,
            // The platform builds its own chain before our callback, always. With the user CAs as its
            // roots ClientTrust can use that chain instead of building a second one (HandshakeChain);
            // either way it never fetches issuers named by the client (AIA), which would be a request forgery.
            CertificateChainPolicy = check.ChainPolicy ?? new X509ChainPolicy
            {
                RevocationMode = X509RevocationMode.NoCheck,
                DisableCertificateDownloads = true,
                TrustMode = X509ChainTrustMode.CustomRootTrust,
            },
            RemoteCertificateValidationCallback = SharedValidation,
        };
    }

    /// <summary>
    /// The one validation callback of every handshake. SslStream keeps its options for its whole life,
    /// so a callback bound to each handshake's <see cref="ClientCertificateCheck"/> kept that check and
    /// its decision alive on every idle connection (issue 9); this one finds the check on the stream
    /// (the sender), which lets go of it when the handshake ends. No check (a callback outside the
    /// handshake, or any other sender) refuses: trust is never decided without one.
    /// </summary>
    internal static readonly RemoteCertificateValidationCallback SharedValidation = static (sender, certificate, chain, _) =>
        sender is JudgedSslStream { Check: { } check } judged && check.Validate(certificate, chain, NegotiatedProtocol(judged));

    /// <summary>The handshake's TLS version, asked inside the validation callback; None when the stream cannot say.</summary>
    private static SslProtocols NegotiatedProtocol(SslStream stream)
    {
        try
        {
            return stream.SslProtocol;
        }
        catch (InvalidOperationException)
        {
            return SslProtocols.None;
        }
    }

    /// <summary>A server SslStream that holds its handshake's check while the handshake runs.</summary>
    internal sealed class JudgedSslStream(Stream transport) : SslStream(transport, leaveInnerStreamOpen: false)
    {
        internal ClientCertificateCheck? Check { get; set; }
    }

    /// <summary>One handshake's client-certificate judgement and the decision it reached.</summary>
    internal sealed class ClientCertificateCheck(ClientTrust trust, ClientCertificateMode mode)
    {
        private X509Certificate2? _certificate;

        public TrustDecision? Decision { get; private set; }

        /// <summary>The TLS version the judgement was made in; null before it.</summary>
        public SslProtocols? Protocol { get; private set; }

        /// <summary>The policy for the platform's chain build, from the trust this handshake is judged by.</summary>
        public X509ChainPolicy? ChainPolicy => trust.HandshakeChainPolicy;

        /// <summary>The certificate of a trusted key: the stream's own object, valid until the stream is disposed.</summary>
        public X509Certificate2? TakeCertificate() => Interlocked.Exchange(ref _certificate, null);

        // The platform's SslPolicyErrors are ignored on purpose: trust is ClientTrust's alone (DESIGN.md
        // decision 1). It may use the platform's chain, which was built with its policy (see Options).
        // The return value is SslStream's verdict. A refused key in TLS 1.3 still gets true: the session
        // must finish for the refusal to be said in words (HandshakeRefusal), and Decision, not the
        // handshake's success, is what TlsAcceptor lets in by.
        public bool Validate(X509Certificate? certificate, X509Chain? chain, SslProtocols protocol)
        {
            Protocol = protocol;
            return Judge(certificate, chain) || protocol == SslProtocols.Tls13;
        }

        private bool Judge(X509Certificate? certificate, X509Chain? chain)
        {
            if (mode == ClientCertificateMode.None)
            {
                Decision = TrustDecision.Allow(Principal.Anonymous);
                return true;
            }

            if (certificate is null)
            {
                Decision = mode == ClientCertificateMode.Optional
                    ? TrustDecision.Allow(Principal.Anonymous)
                    : TrustDecision.Refuse(ClientTrust.Reasons.NoCertificate);
                return Decision.IsTrusted;
            }

            // The connection keeps this certificate so that a reload can judge the key again (issue 7:
            // revocation on live connections). It is SslStream's RemoteCertificate, which the stream holds
            // until it is disposed, so no copy is made: re-parsing the DER cost a full X.509 decode per
            // handshake (OpenSSL 3's public-key decoder is most of it).
            var presented = certificate as X509Certificate2 ?? X509CertificateLoader.LoadCertificate(certificate.GetRawCertData());
            _certificate = presented;
            Decision = trust.Evaluate(presented, chain);
            return Decision.IsTrusted;
        }
    }
}
