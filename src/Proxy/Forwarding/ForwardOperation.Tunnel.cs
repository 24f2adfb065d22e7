using Gatehouse.Http1;
using Microsoft.Extensions.Logging;

namespace Gatehouse.Proxy;

/// <summary>
/// WebSocket (any Upgrade) pass-through, issue 5: the Upgrade request goes upstream as one, the
/// upstream's 101 is relayed with its headers, and then <see cref="ByteTunnel"/> copies bytes
/// both ways until either side closes or the tunnel is idle too long.
/// </summary>
internal sealed partial class ForwardOperation
{
    /// <summary>
    /// The upstream was asked to switch protocols. Only a bodiless HTTP/1.1 Upgrade request on a
    /// plan that allows it: a body would have to be framed before the switch, and the client side
    /// can switch only then (<see cref="HttpExchange.AcceptUpgradeAsync"/>).
    /// </summary>
    private bool UpgradeSent => _plan.AllowUpgrade && Request.IsUpgrade && !Request.HasBody;

    /// <summary>RFC 9110 §7.8: Upgrade and its Connection token are hop-by-hop, so a gateway that tunnels re-adds them.</summary>
    private void WriteUpgradeFields(RequestHeadWriter head)
    {
        if (!UpgradeSent)
        {
            return;
        }

        head.Field(KnownHeaderNames.Upgrade, string.Join(", ", Request.Headers.GetValues(KnownHeaderNames.Upgrade)));
        head.Field(KnownHeaderNames.Connection, "upgrade");
    }

    /// <summary>
    /// Relays the upstream's 101 and tunnels. The upstream connection is never reused afterwards
    /// (the caller aborts it), which is also what closes the upstream side when the client left.
    /// </summary>
    private async ValueTask<ForwardResult> TunnelAsync(UpstreamConnection connection, UpstreamResponseHead head)
    {
        var upgrade = head.Headers.FirstOrDefault(f => f.Name.Equals(KnownHeaderNames.Upgrade, StringComparison.OrdinalIgnoreCase));
        if (upgrade.Name is null)
        {
            // RFC 9110 §15.2.2: a 101 names the protocol switched to; without it there is nothing to tunnel.
            _logger.LogWarning("upstream {Node} answered 101 without Upgrade for {Path}", connection.Node, Request.Target.Path);
            return await FailAsync(502, ForwardResult.UpstreamFailedBeforeResponse, "upstream sent a malformed answer").ConfigureAwait(false);
        }

        CopyHead(head);
        Response.Headers.Set(KnownHeaderNames.Upgrade, upgrade.Value);
        Stream client;
        try
        {
            client = await _exchange.AcceptUpgradeAsync(_cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (IsClientFault(ex))
        {
            return ClientGone(ex);
        }

        // Bytes the upstream sent right after its 101 wait in connection.Reader: the tunnel reads from there.
        var webSocket = upgrade.Value.Contains("websocket", StringComparison.OrdinalIgnoreCase);
        var end = await ByteTunnel.RunAsync(client, connection.Reader, connection.Stream, _plan.TunnelIdleTimeout, _buffers, webSocket, _exchange.Stopping, _cancellationToken).ConfigureAwait(false);
        _logger.LogDebug("tunnel for {Path} to {Node} ended: {End}", Request.Target.Path, connection.Node, end);
        return ForwardResult.Completed;
    }
}
