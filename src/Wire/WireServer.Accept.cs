using System.Net;
using System.Net.Sockets;

namespace Gatehouse.Wire;

/// <summary>The accept loop: admission against the limits, then one task per connection.</summary>
public sealed partial class WireServer
{
    private async Task AcceptLoopAsync(Socket listenSocket, ListenEndpoint endpoint)
    {
        CancellationToken stopping = _stopping.Token;
        while (!stopping.IsCancellationRequested)
        {
            Socket socket;
            try
            {
                socket = await listenSocket.AcceptAsync(stopping).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is OperationCanceledException or ObjectDisposedException || stopping.IsCancellationRequested)
            {
                return;
            }
            catch (SocketException ex) when (Disconnects.IsExpected(ex))
            {
                // A client that reset before we accepted it: nothing to do.
                continue;
            }
            catch (SocketException ex)
            {
                // Typically EMFILE (out of descriptors): back off briefly instead of spinning on the error.
                WireLog.AcceptFault(_logger, ex, endpoint.ToString());
                await Task.Delay(TimeSpan.FromMilliseconds(100), CancellationToken.None).ConfigureAwait(false);
                continue;
            }

            Admit(socket, endpoint);
        }
    }

    private void Admit(Socket socket, ListenEndpoint endpoint)
    {
        if (Interlocked.Increment(ref _open) > _limits.MaxConnections)
        {
            Interlocked.Decrement(ref _open);
            CloseAtAccept(socket, "too many connections (limits.maxConnections)");
            return;
        }

        var address = AddressKey(socket);
        if (!_perAddress.TryAcquire(address, _limits.MaxConnectionsPerAddress))
        {
            Interlocked.Decrement(ref _open);
            CloseAtAccept(socket, "too many connections from this address (limits.maxConnectionsPerAddress)");
            return;
        }

        if (endpoint.Tls && Interlocked.Increment(ref _pendingHandshakes) > _limits.MaxPendingHandshakes)
        {
            Interlocked.Decrement(ref _pendingHandshakes);
            Interlocked.Decrement(ref _open);
            _perAddress.Release(address);
            CloseAtAccept(socket, "too many handshakes in progress (limits.maxPendingHandshakes)");
            return;
        }

        WireMetrics.OpenConnections.Add(1);
        var slot = new ConnectionSlot(Interlocked.Increment(ref _nextConnectionId), socket, endpoint) { AddressKey = address };
        _connections[slot.Id] = slot;
        // Each connection on its own task: a slow handshake must never hold up the accept loop.
        _ = Task.Run(() => RunConnectionAsync(slot));
    }

    private static string AddressKey(Socket socket)
    {
        try
        {
            return socket.RemoteEndPoint is IPEndPoint endpoint ? Unmap(endpoint).Address.ToString() : "?";
        }
        catch (SocketException)
        {
            return "?";
        }
    }

    private void CloseAtAccept(Socket socket, string reason)
    {
        WireMetrics.ClosedAtAccept.Add(1, new KeyValuePair<string, object?>("reason", reason));
        string remote;
        try
        {
            remote = socket.RemoteEndPoint is IPEndPoint endpoint ? Unmap(endpoint).ToString() : "?";
        }
        catch (SocketException)
        {
            remote = "?";
        }

        WireLog.ClosedAtAccept(_logger, remote, reason);
        socket.Dispose();
    }
}
