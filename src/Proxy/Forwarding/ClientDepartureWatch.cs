using System.Net.Sockets;

namespace Gatehouse.Proxy;

/// <summary>
/// While the upstream has not answered, nothing reads from or writes to the client, so a client
/// that reset or closed would go unnoticed until the upstream answers or the header timeout ends —
/// holding an upstream connection (one of a node's few) all that time (issue 10's abort matrix
/// found this). This polls the client's socket instead, as nginx does: readable with nothing to
/// read means it closed (FIN) or reset. No read is issued, so the connection's pipe and TLS state
/// are never touched; bytes waiting (a pipelined request, a TLS record) keep it counted as present.
/// One timer per waiting forward, and it never fires for an upstream that answers within 250 ms.
/// </summary>
internal sealed class ClientDepartureWatch : IDisposable
{
    private static readonly TimeSpan Interval = TimeSpan.FromMilliseconds(250);
    private readonly Socket _client;
    private readonly CancellationTokenSource _onDeparture;
    private readonly Timer _timer;
    private volatile bool _clientGone;

    private ClientDepartureWatch(Socket client, CancellationTokenSource onDeparture)
    {
        _client = client;
        _onDeparture = onDeparture;
        _timer = new Timer(static state => ((ClientDepartureWatch)state!).Check(), this, Interval, Interval);
    }

    /// <summary>True once the client was seen gone (and <c>onDeparture</c> was cancelled).</summary>
    public bool ClientGone => _clientGone;

    /// <summary>Starts polling <paramref name="client"/>; cancels <paramref name="onDeparture"/> when it leaves.</summary>
    public static ClientDepartureWatch Start(Socket client, CancellationTokenSource onDeparture) => new(client, onDeparture);

    public void Dispose() => _timer.Dispose();

    private void Check()
    {
        if (_clientGone || !HasLeft(_client))
        {
            return;
        }

        _clientGone = true;
        try
        {
            _timer.Change(Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
            _onDeparture.Cancel();
        }
        catch (ObjectDisposedException)
        {
            // The exchange ended as the client left: nothing left to stop or cancel.
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
