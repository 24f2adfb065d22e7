using System.Net;
using System.Net.Sockets;

namespace Gatehouse.Wire;

/// <summary>The accept loop: admission against the limits, then one task per connection.</summary>
public sealed partial class WireServer
{
    private async Task AcceptLoopAsync(Socket listenSocket, ListenEndpoint endpoint, string boundText)
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
                WireLog.AcceptFault(_logger, ex, boundText);
                await Task.Delay(TimeSpan.FromMilliseconds(100), CancellationToken.None).ConfigureAwait(false);
                continue;
            }

            Admit(socket, endpoint, boundText);
        }
    }

    private void Admit(Socket socket, ListenEndpoint endpoint, string boundText)
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

        PendingHandshakes.Entry? handshake = null;
        if (endpoint.Tls)
        {
            handshake = _pendingHandshakes.TryStart(address, socket, _limits.MaxPendingHandshakes, _limits.MaxPendingHandshakesPerAddress, out var evicted);
            if (handshake is null)
            {
                Interlocked.Decrement(ref _open);
                _perAddress.Release(address);
                CloseAtAccept(socket, "too many handshakes in progress from this address (limits.maxPendingHandshakesPerAddress)");
                return;
            }

            if (evicted is not null)
            {
                // Full: the oldest pending handshake makes room (its connection task cleans up when its read fails).
                WireMetrics.ClosedAtAccept.Add(1, new KeyValuePair<string, object?>("reason", "limits.maxPendingHandshakes"));
                WireLog.HandshakeEvicted(_logger, evicted.Address);
                evicted.Socket.Dispose();
            }
        }

        WireMetrics.OpenConnections.Add(1);
        var slot = new ConnectionSlot(Interlocked.Increment(ref _nextConnectionId), socket, endpoint, boundText) { AddressKey = address, Handshake = handshake };
        _connections[slot.Id] = slot;
        // Each connection on its own task: a slow handshake must never hold up the accept loop.
        // Queued with the slot as state rather than by Task.Run over a lambda: the closure, delegate
        // and the two tasks of Task.Run stayed referenced for the connection's whole life (issue 9,
        // about 200 bytes per idle connection). Shutdown awaits the count of open connections instead.
        ThreadPool.QueueUserWorkItem(static state => _ = state.Server.RunConnectionAsync(state.Slot), (Server: this, Slot: slot), preferLocal: false);
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
