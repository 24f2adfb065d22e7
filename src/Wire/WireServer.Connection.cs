using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Cryptography.X509Certificates;

namespace Gatehouse.Wire;

/// <summary>One connection's life: handshake, principal, handler, close. Never throws: a fault is logged, not fatal.</summary>
public sealed partial class WireServer
{
    private async Task RunConnectionAsync(ConnectionSlot slot)
    {
        // Two steps, so that what an idle connection keeps is small: this method's state lives as long
        // as the handler runs, OpenAsync's (the handshake's results, the keys it was judged by) ends
        // with the handshake. What the end needs is on the slot (issue 9).
        try
        {
            if (await OpenAsync(slot).ConfigureAwait(false) is { } connection)
            {
                await _handler(connection, _stopping.Token).ConfigureAwait(false);
            }
        }
        catch (Exception ex) when (Disconnects.IsExpected(ex))
        {
            WireLog.Disconnected(_logger, RemoteText(slot.Remote), ex.Message);
        }
        catch (Exception ex)
        {
            // A handler fault closes this connection only; it must never take the process down.
            WireLog.ConnectionFault(_logger, ex, RemoteText(slot.Remote));
        }
        finally
        {
            FinishHandshake(slot);
            WireConnection? connection = slot.Connection;
            await CloseAsync(connection, slot.Socket).ConfigureAwait(false);
            _perAddress.Release(slot.AddressKey);
            if (slot.PrincipalKey is { } pin)
            {
                _perPrincipal.Release(pin);
            }

            WireMetrics.OpenConnections.Add(-1);
            _connections.TryRemove(slot.Id, out _);
            // A reload pass still holding this slot copes with a disposed certificate (see Rejudge).
            connection?.ClientCertificate?.Dispose();
            // Last, so that a stop waiting for the count sees this connection completely done (see StopCoreAsync).
            if (Interlocked.Decrement(ref _open) == 0)
            {
                Volatile.Read(ref _drained)?.TrySetResult();
            }
        }
    }

    /// <summary>
    /// The handshake (on TLS listeners) and the principal: the admitted connection, published on the
    /// slot, or null when refused or failed (logged). The caller closes the socket either way.
    /// </summary>
    private async Task<WireConnection?> OpenAsync(ConnectionSlot slot)
    {
        Socket socket = slot.Socket;
        ListenEndpoint listener = slot.Listener;
        socket.NoDelay = true;
        IPEndPoint remote = Unmap((IPEndPoint)socket.RemoteEndPoint!);
        slot.Remote = remote;
        IPEndPoint local = Unmap((IPEndPoint)socket.LocalEndPoint!);

        var network = new ConnectionStream(socket);
        Stream stream = network;
        Principal principal;
        X509Certificate2? clientCertificate = null;
        GateKeys judgedBy = Volatile.Read(ref _keys);
        if (listener.Tls)
        {
            (SslStream Stream, Principal Principal, X509Certificate2? Certificate)? accepted =
                await _tls!.AcceptAsync(judgedBy, network, listener, slot.ListenerText, remote.ToString(), _stopping.Token).ConfigureAwait(false);
            FinishHandshake(slot);
            if (accepted is not { } admitted)
            {
                return null;
            }

            (stream, principal, clientCertificate) = admitted;
            if (principal.HasKey)
            {
                if (!_perPrincipal.TryAcquire(principal.Pin, _limits.MaxConnectionsPerPrincipal))
                {
                    WireLog.Refused(_logger, remote.ToString(), slot.ListenerText, "too many connections for this key (limits.maxConnectionsPerPrincipal)");
                    WireMetrics.ClosedAtAccept.Add(1, new KeyValuePair<string, object?>("reason", "limits.maxConnectionsPerPrincipal"));
                    try
                    {
                        await stream.DisposeAsync().ConfigureAwait(false);
                    }
                    finally
                    {
                        clientCertificate?.Dispose();
                    }

                    return null;
                }

                slot.PrincipalKey = principal.Pin;
            }
        }
        else
        {
            // A plain listener is loopback-only (ListenEndpoint.Validate); "local" marks the device's own user.
            principal = listener.Local ? Principal.Local : Principal.Anonymous;
        }

        // From here the connection owns the certificate: RunConnectionAsync disposes it at the end.
        var connection = new WireConnection(stream, socket, principal, clientCertificate, remote, local, listener, _buffers, _tuning, _aborting.Token);
        slot.Admit(connection);
        // A reload that landed while this handshake ran judged the open connections without this
        // one; judge it now against the keys in force, before the handler sees a byte.
        GateKeys current = Volatile.Read(ref _keys);
        return !ReferenceEquals(current, judgedBy) && Rejudge(slot, current, decisions: null) ? null : connection;
    }

    /// <summary>Takes the connection out of the pending handshakes, once (a plain listener's has none).</summary>
    private void FinishHandshake(ConnectionSlot slot)
    {
        if (slot.Handshake is { } handshake)
        {
            slot.Handshake = null;
            _pendingHandshakes.Finish(handshake);
        }
    }

    private static string RemoteText(IPEndPoint? remote) => remote?.ToString() ?? "?";

    private async Task CloseAsync(WireConnection? connection, Socket socket)
    {
        try
        {
            if (connection is not null)
            {
                await connection.DisposeAsync().ConfigureAwait(false);
            }
        }
        catch (Exception ex)
        {
            WireLog.Disconnected(_logger, "?", ex.Message);
        }
        finally
        {
            socket.Dispose();
        }
    }
}
