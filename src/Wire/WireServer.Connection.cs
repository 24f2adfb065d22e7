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
        Socket socket = slot.Socket;
        ListenEndpoint listener = slot.Listener;
        bool handshakePending = listener.Tls;
        string remoteText = "?";
        WireConnection? connection = null;
        X509Certificate2? clientCertificate = null;
        try
        {
            socket.NoDelay = true;
            IPEndPoint remote = Unmap((IPEndPoint)socket.RemoteEndPoint!);
            IPEndPoint local = Unmap((IPEndPoint)socket.LocalEndPoint!);
            remoteText = remote.ToString();

            var network = new ConnectionStream(socket);
            Stream stream = network;
            Principal principal;
            GateKeys judgedBy = Volatile.Read(ref _keys);
            if (listener.Tls)
            {
                (SslStream Stream, Principal Principal, X509Certificate2? Certificate)? accepted =
                    await _tls!.AcceptAsync(judgedBy, network, listener, remoteText, _stopping.Token).ConfigureAwait(false);
                _pendingHandshakes.Finish(slot.Handshake!);
                handshakePending = false;
                if (accepted is not { } admitted)
                {
                    return;
                }

                (stream, principal, clientCertificate) = admitted;
                if (principal.HasKey)
                {
                    if (!_perPrincipal.TryAcquire(principal.Pin, _limits.MaxConnectionsPerPrincipal))
                    {
                        WireLog.Refused(_logger, remoteText, listener.ToString(), "too many connections for this key (limits.maxConnectionsPerPrincipal)");
                        WireMetrics.ClosedAtAccept.Add(1, new KeyValuePair<string, object?>("reason", "limits.maxConnectionsPerPrincipal"));
                        await stream.DisposeAsync().ConfigureAwait(false);
                        return;
                    }

                    slot.PrincipalKey = principal.Pin;
                }
            }
            else
            {
                // A plain listener is loopback-only (ListenEndpoint.Validate); "local" marks the device's own user.
                principal = listener.Local ? Principal.Local : Principal.Anonymous;
            }

            connection = new WireConnection(stream, socket, principal, clientCertificate, remote, local, listener, _buffers);
            slot.Admit(connection);
            // A reload that landed while this handshake ran judged the open connections without this
            // one; judge it now against the keys in force, before the handler sees a byte.
            GateKeys current = Volatile.Read(ref _keys);
            if (!ReferenceEquals(current, judgedBy) && Rejudge(slot, current, decisions: null))
            {
                return;
            }

            await _handler(connection, _stopping.Token).ConfigureAwait(false);
        }
        catch (Exception ex) when (Disconnects.IsExpected(ex))
        {
            WireLog.Disconnected(_logger, remoteText, ex.Message);
        }
        catch (Exception ex)
        {
            // A handler fault closes this connection only; it must never take the process down.
            WireLog.ConnectionFault(_logger, ex, remoteText);
        }
        finally
        {
            if (handshakePending)
            {
                _pendingHandshakes.Finish(slot.Handshake!);
            }

            await CloseAsync(connection, socket).ConfigureAwait(false);
            Interlocked.Decrement(ref _open);
            _perAddress.Release(slot.AddressKey);
            if (slot.PrincipalKey is { } pin)
            {
                _perPrincipal.Release(pin);
            }

            WireMetrics.OpenConnections.Add(-1);
            _connections.TryRemove(slot.Id, out _);
            // A reload pass still holding this slot copes with a disposed certificate (see Rejudge).
            clientCertificate?.Dispose();
            slot.Done.TrySetResult();
        }
    }

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
