using System.Net.Sockets;

namespace Gatehouse.Proxy;

/// <summary>
/// While the upstream has not answered, nothing reads from or writes to the client, so a client
/// that reset or closed would go unnoticed until the upstream answers or the header timeout ends —
/// holding an upstream connection (one of a node's few) all that time (issue 10's abort matrix
/// found this). This polls the client's socket instead, as nginx does: readable with nothing to
/// read means it closed (FIN) or reset. No read is issued, so the connection's pipe and TLS state
/// are never touched; bytes waiting (a pipelined request, a TLS record) keep it counted as present.
/// One per upstream connection, its timer re-armed for each forward that waits (no timer made
/// per request, issue 9); it never fires for an upstream that answers within 250 ms.
/// </summary>
internal sealed class ClientDepartureWatch : IDisposable
{
    private static readonly TimeSpan Interval = TimeSpan.FromMilliseconds(250);
    private readonly Lock _lock = new();
    private Timer? _timer;
    private Socket? _client;
    private IdleDeadline? _onDeparture;
    private bool _clientGone;

    /// <summary>True once the client was seen gone (and the deadline was fired), until the next <see cref="Start"/>.</summary>
    public bool ClientGone
    {
        get
        {
            lock (_lock)
            {
                return _clientGone;
            }
        }
    }

    /// <summary>Starts polling <paramref name="client"/>; fires <paramref name="onDeparture"/> when it leaves.</summary>
    public void Start(Socket client, IdleDeadline onDeparture)
    {
        lock (_lock)
        {
            _client = client;
            _onDeparture = onDeparture;
            _clientGone = false;
            _timer ??= new Timer(static state => ((ClientDepartureWatch)state!).Check(), this, Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
            _timer.Change(Interval, Interval);
        }
    }

    /// <summary>Stops polling; a tick already running finds nothing to watch.</summary>
    public void Stop()
    {
        lock (_lock)
        {
            _client = null;
            _onDeparture = null;
            _timer?.Change(Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
        }
    }

    public void Dispose()
    {
        lock (_lock)
        {
            _client = null;
            _onDeparture = null;
            _timer?.Dispose();
        }
    }

    private void Check()
    {
        lock (_lock)
        {
            if (_client is null || _clientGone || !ClientPresence.HasLeft(_client))
            {
                return;
            }

            _clientGone = true;
            try
            {
                _timer?.Change(Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
            }
            catch (ObjectDisposedException)
            {
                // The upstream connection closed as the client left.
            }

            _onDeparture?.Cancel();
        }
    }
}
