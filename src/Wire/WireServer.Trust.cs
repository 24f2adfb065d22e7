using System.Net.Sockets;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace Gatehouse.Wire;

/// <summary>
/// Hot reload of the server identity and the client trust, and revocation on live connections
/// (issue 7): after a swap every open connection's key is judged again, and those no longer let in
/// are aborted at once, idle keep-alive ones included.
/// </summary>
public sealed partial class WireServer
{
    /// <summary>
    /// Swaps the server identity and the client trust as one value, then re-judges every open
    /// connection that proved a key:
    /// 1. new handshakes use the new identity and trust from the moment of the swap; handshakes in
    ///    progress finish with the old ones and are judged again before their handler starts;
    /// 2. a connection whose key the new trust refuses (pin removed, CA removed, key denied, expired)
    ///    or now lets in as a different principal is aborted (logged at Information with its pin and
    ///    the reason); its pending reads and writes fail at once;
    /// 3. a connection still trusted as the same principal is aborted the same way when
    ///    <paramref name="revocation"/> gives a reason (the reloaded rules took every grant away);
    /// 4. the others are untouched.
    /// Calls are serialized; each pass runs on the caller's thread.
    /// </summary>
    /// <param name="identity">The new server identity, or null to keep the current one.</param>
    /// <param name="trust">The new trust.</param>
    /// <param name="revocation">The policy's verdict on principals the trust keeps, or null to keep them all.</param>
    /// <returns>How many connections were closed.</returns>
    public int UpdateTrust(ServerIdentity? identity, ClientTrust trust, RevocationCheck? revocation = null)
    {
        ArgumentNullException.ThrowIfNull(trust);
        lock (_updating)
        {
            GateKeys previous = Volatile.Read(ref _keys);
            var next = new GateKeys(identity ?? previous.Identity, trust, revocation);
            // A full fence, paired with ConnectionSlot.Admit: see RunConnectionAsync.
            Interlocked.Exchange(ref _keys, next);

            // Many connections share one key (a client's pool): judge each certificate once per pass.
            var decisions = new Dictionary<string, TrustDecision>(StringComparer.Ordinal);
            int judged = 0;
            int revoked = 0;
            foreach (ConnectionSlot slot in _connections.Values)
            {
                if (slot.Connection is { ClientCertificate: not null })
                {
                    judged++;
                    if (Rejudge(slot, next, decisions))
                    {
                        revoked++;
                        WireMetrics.Revocations.Add(1);
                    }
                }
            }

            WireLog.TrustUpdated(_logger, next.Identity?.Pin ?? "-", judged, revoked);
            return revoked;
        }
    }

    /// <summary>Judges one admitted connection against <paramref name="keys"/>; aborts it and returns true when it is out.</summary>
    private bool Rejudge(ConnectionSlot slot, GateKeys keys, Dictionary<string, TrustDecision>? decisions)
    {
        ClientTrust trust = keys.Trust;
        if (slot.Connection is not { ClientCertificate: { } certificate, Principal: { HasKey: true } principal } connection)
        {
            return false;
        }

        TrustDecision decision;
        try
        {
            string key = certificate.GetCertHashString(HashAlgorithmName.SHA256);
            if (decisions is null || !decisions.TryGetValue(key, out decision!))
            {
                decision = trust.Evaluate(certificate);
                decisions?.Add(key, decision);
            }
        }
        catch (Exception ex) when (ex is CryptographicException or ObjectDisposedException)
        {
            // The connection ended meanwhile and its certificate was disposed: nothing left to close.
            return false;
        }

        string? reason;
        if (decision.Principal == principal)
        {
            // Same principal (same key, same trust path and name): it stays unless the new rules left it nothing.
            reason = keys.Revocation?.Invoke(principal);
            if (reason is null)
            {
                return false;
            }
        }
        else
        {
            reason = decision.RefusalReason
                ?? $"now trusted as {Describe(decision.Principal!)} instead of {Describe(principal)}; must reconnect";
        }

        if (!slot.TryMarkRevoked())
        {
            return false;
        }

        WireLog.Revoked(_logger, connection.RemoteEndPoint.ToString(), principal.Pin, reason);
        SocketAbort.Abort(slot.Socket);
        return true;
    }

    private static string Describe(Principal principal) => principal.Source switch
    {
        TrustSource.CertificateAuthority => "ca:" + principal.TrustName,
        TrustSource.PinnedKey => "pinned:" + principal.TrustName,
        _ => principal.Source.ToString(),
    };
}
