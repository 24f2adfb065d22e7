using Gatehouse.Http1;
using Gatehouse.Http1.WebSockets;
using Microsoft.Extensions.Logging;

namespace Gatehouse.Proxy;

/// <summary>
/// WebSocket pass-through, issue 5: a valid WebSocket upgrade goes upstream as one, the upstream's
/// 101 is relayed with its headers, and then <see cref="ByteTunnel"/> copies bytes both ways until
/// either side closes or the tunnel is idle too long. Only a WebSocket handshake may open a tunnel
/// (issue 17 item 4): any other Upgrade is forwarded as an ordinary request, and a 101 nobody
/// asked for is a 502.
/// </summary>
internal sealed partial class ForwardOperation
{
    /// <summary>
    /// The upstream was asked to switch protocols: a plan that allows it and a valid WebSocket
    /// handshake (GET, no body, key and version checked). <c>Upgrade: h2c</c> and the like would
    /// turn the connection into a tunnel the gateway never judged (DESIGN.md decision 2).
    /// </summary>
    private bool UpgradeSent => _plan.AllowUpgrade && WebSocketUpgradeRequest.IsValid(Request);

    /// <summary>
    /// RFC 9110 §7.8: Upgrade and its Connection token are hop-by-hop (always dropped with the
    /// client's other hop-by-hop fields), so a gateway that tunnels re-adds them, naming only websocket.
    /// </summary>
    private void WriteUpgradeFields(RequestHeadWriter head)
    {
        if (!UpgradeSent)
        {
            return;
        }

        head.Field(KnownHeaderNames.Upgrade, WebSocketUpgradeRequest.Protocol);
        head.Field(KnownHeaderNames.Connection, "upgrade");
    }

    /// <summary>
    /// Relays the upstream's 101 and tunnels. The upstream connection is never reused afterwards
    /// (the caller aborts it), which is also what closes the upstream side when the client left.
    /// </summary>
    private async ValueTask<ForwardResult> TunnelAsync(UpstreamConnection connection, UpstreamResponseHead head)
    {
        if (!UpgradeSent)
        {
            // RFC 9110 §15.2.2: a server may switch only to what the request's Upgrade offered. The
            // caller discards the connection: whatever the upstream now speaks, it is not HTTP/1.1.
            ProxyLog.UnaskedSwitch(_logger, connection.Node, Request.Method, Request.Target.Path);
            return await FailAsync(502, ForwardResult.UpstreamFailedBeforeResponse, "upstream switched protocols unasked").ConfigureAwait(false);
        }

        var upgrade = head.Headers.FirstOrDefault(f => f.Name.Equals(KnownHeaderNames.Upgrade, StringComparison.OrdinalIgnoreCase));
        if (upgrade.Name is null || !upgrade.Value.AsSpan().Trim(" \t").Equals(WebSocketUpgradeRequest.Protocol, StringComparison.OrdinalIgnoreCase))
        {
            // RFC 9110 §15.2.2: a 101 names the protocol switched to; only websocket was offered.
            ProxyLog.SwitchWithoutWebSocket(_logger, connection.Node, Request.Target.Path);
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
        ProxyLog.TunnelEnded(_logger, Request.Target.Path, connection.Node, end);
        return ForwardResult.Completed;
    }
}
