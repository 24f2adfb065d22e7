using System.Net.Sockets;

namespace Gatehouse.Proxy;

/// <summary>
/// While the upstream has not answered, nothing reads from or writes to the client, so a client
/// that reset or closed would go unnoticed until the upstream answers or the header timeout ends —
/// holding an upstream connection (one of a node's few) all that time (issue 10's abort matrix
/// found this). This polls the client's socket instead, as nginx does: readable with nothing to
/// read means it closed (FIN) or reset. No read is issued, so the connection's pipe and TLS state
/// are never touched; bytes waiting (a pipelined request, a TLS record) keep it counted as present.
/// </summary>
internal sealed class ClientDepartureWatch : IAsyncDisposable
{
    private static readonly TimeSpan Interval = TimeSpan.FromMilliseconds(250);
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _loop;
    private volatile bool _clientGone;

    private ClientDepartureWatch(Socket client, CancellationTokenSource onDeparture)
    {
        _loop = WatchAsync(client, onDeparture);
    }

    /// <summary>True once the client was seen gone (and <c>onDeparture</c> was cancelled).</summary>
    public bool ClientGone => _clientGone;

    /// <summary>Starts polling <paramref name="client"/>; cancels <paramref name="onDeparture"/> when it leaves.</summary>
    public static ClientDepartureWatch Start(Socket client, CancellationTokenSource onDeparture) => new(client, onDeparture);

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync().ConfigureAwait(false);
        await _loop.ConfigureAwait(false);
        _stop.Dispose();
    }

    private async Task WatchAsync(Socket client, CancellationTokenSource onDeparture)
    {
        using var timer = new PeriodicTimer(Interval);
        try
        {
            while (await timer.WaitForNextTickAsync(_stop.Token).ConfigureAwait(false))
            {
                if (HasLeft(client))
                {
                    _clientGone = true;
                    await onDeparture.CancelAsync().ConfigureAwait(false);
                    return;
                }
            }
        }
        catch (OperationCanceledException)
        {
            // The upstream answered (or failed) first: the watch is over.
        }
        catch (ObjectDisposedException)
        {
            // onDeparture was disposed as the exchange ended: nothing left to cancel.
        }
    }

    private static bool HasLeft(Socket client)
    {
        try
        {
            return client.Poll(0, SelectMode.SelectRead) && client.Available == 0;
        }
        catch (Exception ex) when (ex is SocketException or ObjectDisposedException)
        {
            return true;
        }
    }
}
