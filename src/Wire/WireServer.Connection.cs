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
        // The address, not its text: this method's state lives as long as the connection, and the
        // endpoint is the one the connection keeps anyway (the text is made only for a log line).
        IPEndPoint? remote = null;
        WireConnection? connection = null;
        X509Certificate2? clientCertificate = null;
        try
        {
            socket.NoDelay = true;
            remote = Unmap((IPEndPoint)socket.RemoteEndPoint!);
            IPEndPoint local = Unmap((IPEndPoint)socket.LocalEndPoint!);

            var network = new NetworkStream(socket, ownsSocket: true);
            Stream stream = network;
            Principal principal;
            GateKeys judgedBy = Volatile.Read(ref _keys);
            if (listener.Tls)
            {
                (SslStream Stream, Principal Principal, X509Certificate2? Certificate)? accepted =
                    await _tls!.AcceptAsync(judgedBy, network, listener, remote.ToString(), _stopping.Token).ConfigureAwait(false);
                FinishHandshake(slot);
                if (accepted is not { } admitted)
                {
                    return;
                }

                (stream, principal, clientCertificate) = admitted;
                if (principal.HasKey)
                {
                    if (!_perPrincipal.TryAcquire(principal.Pin, _limits.MaxConnectionsPerPrincipal))
                    {
                        WireLog.Refused(_logger, remote.ToString(), listener.ToString(), "too many connections for this key (limits.maxConnectionsPerPrincipal)");
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
            WireLog.Disconnected(_logger, RemoteText(remote), ex.Message);
        }
        catch (Exception ex)
        {
            // A handler fault closes this connection only; it must never take the process down.
            WireLog.ConnectionFault(_logger, ex, RemoteText(remote));
        }
        finally
        {
            FinishHandshake(slot);
            await CloseAsync(connection, socket).ConfigureAwait(false);
            _perAddress.Release(slot.AddressKey);
            if (slot.PrincipalKey is { } pin)
            {
                _perPrincipal.Release(pin);
            }

            WireMetrics.OpenConnections.Add(-1);
            _connections.TryRemove(slot.Id, out _);
            // A reload pass still holding this slot copes with a disposed certificate (see Rejudge).
            clientCertificate?.Dispose();
            // Last, so that a stop waiting for the count sees this connection completely done (see StopCoreAsync).
            if (Interlocked.Decrement(ref _open) == 0)
            {
                Volatile.Read(ref _drained)?.TrySetResult();
            }
        }
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
