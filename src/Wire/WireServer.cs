using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using Gatehouse.Wire.Tuning;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Gatehouse.Wire;

/// <summary>
/// The gate's listeners: binds every endpoint, accepts connections, runs the TLS handshake and the
/// client-key check, and hands each admitted connection with its <see cref="Principal"/> to the
/// handler on its own task. Start in-process on port 0 and read <see cref="BoundEndpoints"/>
/// (DESIGN.md decision 7).
/// </summary>
public sealed partial class WireServer : IAsyncDisposable
{
    /// <summary>Listen backlog per endpoint: room for a burst of replication clients reconnecting at once.</summary>
    private const int Backlog = 512;

    /// <summary>After aborting at the end of the grace, how long to wait for handlers to notice.</summary>
    private static readonly TimeSpan s_abortWait = TimeSpan.FromSeconds(2);

    private readonly ListenEndpoint[] _endpoints;
    private readonly WireLimits _limits;
    private readonly ConnectionHandler _handler;
    private readonly BufferPools _buffers;
    private readonly ILogger _logger;
    private readonly TlsAcceptor? _tls;
    private readonly ITlsTuning? _tuning; // with a TLS listener only
    private readonly Lock _updating = new();
    private GateKeys _keys; // swapped whole by UpdateTrust; each handshake reads it once
    private readonly CancellationTokenSource _stopping = new(); // stop accepting and drain: handlers finish what they hold
    private readonly CancellationTokenSource _aborting = new(); // the grace is over: handlers give up now
    private readonly ConcurrentDictionary<long, ConnectionSlot> _connections = new();
    private readonly List<Socket> _listenSockets = [];
    private readonly List<Task> _acceptLoops = [];
    private IPEndPoint[] _bound = [];
    private long _nextConnectionId;
    private int _open; // accepted and not yet closed; decremented last, when the connection's task is done with it
    private TaskCompletionSource? _drained; // set once stopping accepts no more; completed when _open reaches 0
    private readonly ConnectionCounts _perAddress = new();
    private readonly ConnectionCounts _perPrincipal = new();
    private readonly PendingHandshakes _pendingHandshakes = new();
    private int _state; // 0 new, 1 started, 2 stopping
    private Task? _stopTask;

    /// <summary>Creates the server; nothing is bound until <see cref="Start"/>.</summary>
    /// <exception cref="InvalidOperationException">An endpoint breaks a rule (see <see cref="ListenEndpoint.Validate"/>).</exception>
    /// <exception cref="ArgumentException">A TLS endpoint is configured but no identity is given.</exception>
    /// <param name="buffers">Pools for the connections' buffers; <see cref="BufferPools.Shared"/> when null.</param>
    /// <param name="tlsTuning">
    /// Save memory on idle TLS connections by reaching past .NET's public API into SslStream and OpenSSL
    /// (src/Wire/Tuning); false leaves every stream as .NET makes it.
    /// </param>
    public WireServer(IReadOnlyList<ListenEndpoint> endpoints, ServerIdentity? identity, ClientTrust trust, WireLimits limits, ConnectionHandler handler, ILogger? logger = null, BufferPools? buffers = null, bool tlsTuning = true)
    {
        ArgumentNullException.ThrowIfNull(endpoints);
        ArgumentNullException.ThrowIfNull(trust);
        ArgumentNullException.ThrowIfNull(limits);
        ArgumentNullException.ThrowIfNull(handler);

        _endpoints = [.. endpoints];
        foreach (ListenEndpoint endpoint in _endpoints)
        {
            ArgumentNullException.ThrowIfNull(endpoint, nameof(endpoints));
            endpoint.Validate();
            if (endpoint.Tls && identity is null)
            {
                throw new ArgumentException($"TLS listener {endpoint} needs a server identity (certificate and key)", nameof(identity));
            }
        }

        _limits = limits;
        _handler = handler;
        _buffers = buffers ?? BufferPools.Shared;
        _logger = logger ?? NullLogger.Instance;
        _keys = new GateKeys(identity, trust);
        if (_endpoints.Any(e => e.Tls))
        {
            _tuning = TlsTuning.Create(tlsTuning, _logger);
            _tls = new TlsAcceptor(limits, _tuning, _logger);
        }
    }

    /// <summary>The server identity new handshakes present (changed by <see cref="UpdateTrust"/>).</summary>
    public ServerIdentity? Identity => Volatile.Read(ref _keys).Identity;

    /// <summary>The trust new handshakes and re-judged connections are held to (changed by <see cref="UpdateTrust"/>).</summary>
    public ClientTrust Trust => Volatile.Read(ref _keys).Trust;

    /// <summary>The addresses actually bound after <see cref="Start"/> (real ports when 0 was asked), in endpoint order.</summary>
    public IReadOnlyList<IPEndPoint> BoundEndpoints => _bound;

    /// <summary>Connections accepted and not yet closed, handshakes in progress included.</summary>
    public int OpenConnections => Volatile.Read(ref _open);

    /// <summary>TLS handshakes in progress now (bounded by limits.maxPendingHandshakes).</summary>
    public int PendingHandshakes => _pendingHandshakes.Count;

    /// <summary>Admitted connections now, by principal: the key pin, or "local"/"anonymous" for keyless ones.</summary>
    public IReadOnlyDictionary<string, int> OpenConnectionsByPrincipal()
    {
        var counts = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var slot in _connections.Values)
        {
            if (slot.Connection?.Principal is { } principal)
            {
                var key = principal.HasKey ? principal.Pin : principal.Source == TrustSource.LocalListener ? "local" : "anonymous";
                counts[key] = counts.GetValueOrDefault(key) + 1;
            }
        }

        return counts;
    }

    /// <summary>
    /// Binds every endpoint before returning (so a client may connect as soon as it returns), then
    /// starts one accept loop per endpoint.
    /// </summary>
    /// <exception cref="InvalidOperationException">Already started, or an endpoint could not be bound; nothing stays bound then.</exception>
    public void Start()
    {
        if (Interlocked.CompareExchange(ref _state, 1, 0) != 0)
        {
            throw new InvalidOperationException("the server was already started");
        }

        var bound = new IPEndPoint[_endpoints.Length];
        try
        {
            for (int i = 0; i < _endpoints.Length; i++)
            {
                Socket socket = Bind(_endpoints[i]);
                _listenSockets.Add(socket);
                bound[i] = (IPEndPoint)socket.LocalEndPoint!;
            }
        }
        catch
        {
            foreach (Socket socket in _listenSockets)
            {
                socket.Dispose();
            }

            _listenSockets.Clear();
            throw;
        }

        _bound = bound;
        if (_tuning is not null)
        {
            WireLog.TlsTuning(_logger, _tuning.Summary);
        }

        for (int i = 0; i < _endpoints.Length; i++)
        {
            ListenEndpoint endpoint = _endpoints[i];
            Socket socket = _listenSockets[i];
            // Log lines name the port bound, never the configured 0.
            var boundText = bound[i].ToString();
            WireLog.Listening(_logger, boundText, endpoint.Tls ? "tls" : "plain");
            _acceptLoops.Add(Task.Run(() => AcceptLoopAsync(socket, endpoint, boundText)));
        }
    }

    /// <summary>
    /// Stops accepting, signals running handlers through their <c>stopping</c> token (drain: finish
    /// the request in hand), waits up to <paramref name="grace"/> for them to finish, then cancels
    /// <see cref="WireConnection.Aborted"/> and closes the rest. Safe to call more than once.
    /// </summary>
    public Task StopAsync(TimeSpan grace)
    {
        int previous = Interlocked.Exchange(ref _state, 2);
        if (previous == 2)
        {
            return _stopTask ?? Task.CompletedTask;
        }

        return _stopTask = StopCoreAsync(grace);
    }

    /// <summary>Stops at once: no grace, running connections are aborted.</summary>
    public async ValueTask DisposeAsync()
    {
        await StopAsync(TimeSpan.Zero).ConfigureAwait(false);
        // A handler that ignored the abort may still hold the token; dispose only when none is left.
        if (_connections.IsEmpty)
        {
            _stopping.Dispose();
            _aborting.Dispose();
        }
    }

    private async Task StopCoreAsync(TimeSpan grace)
    {
        // 1. Stop accepting: closing the listen sockets ends every AcceptAsync.
        await _stopping.CancelAsync().ConfigureAwait(false);
        foreach (Socket socket in _listenSockets)
        {
            socket.Dispose();
        }

        await Task.WhenAll(_acceptLoops).ConfigureAwait(false);

        // No connection can be added now: the last one to end completes this. A full fence, paired
        // with the decrement in RunConnectionAsync: either it sees this or the count read below sees it.
        var drained = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        Interlocked.Exchange(ref _drained, drained);

        // 2. Let handlers finish what they hold, up to the grace.
        if (await AllConnectionsDoneAsync(drained.Task, grace).ConfigureAwait(false))
        {
            return;
        }

        // 3. Abort the rest: the abort token ends what waits on something else than the client
        // (an upstream's answer), closing the socket fails their pending reads and writes.
        WireLog.AbortingAfterGrace(_logger, _connections.Count, grace);
        await _aborting.CancelAsync().ConfigureAwait(false);
        foreach (ConnectionSlot slot in _connections.Values)
        {
            slot.Socket.Dispose();
        }

        _ = await AllConnectionsDoneAsync(drained.Task, s_abortWait).ConfigureAwait(false);
    }

    private async Task<bool> AllConnectionsDoneAsync(Task drained, TimeSpan wait)
    {
        if (Volatile.Read(ref _open) == 0)
        {
            return true;
        }

        try
        {
            await drained.WaitAsync(wait).ConfigureAwait(false);
            return true;
        }
        catch (TimeoutException)
        {
            return false;
        }
    }

    private static Socket Bind(ListenEndpoint endpoint)
    {
        var socket = new Socket(endpoint.Address.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
        try
        {
            if (endpoint.Address.Equals(IPAddress.IPv6Any))
            {
                // "::" is dual-stack (DESIGN.md process contract): IPv4 clients arrive as ::ffff:a.b.c.d.
                socket.DualMode = true;
            }

            ReuseAddress.Enable(socket);

            socket.Bind(new IPEndPoint(endpoint.Address, endpoint.Port));
            socket.Listen(Backlog);
            return socket;
        }
        catch (SocketException ex)
        {
            socket.Dispose();
            throw new InvalidOperationException($"cannot listen on {endpoint}: {ex.Message}", ex);
        }
    }

    /// <summary>IPv4 clients of a dual-stack listener are shown and judged as IPv4.</summary>
    private static IPEndPoint Unmap(IPEndPoint endpoint) =>
        endpoint.Address.IsIPv4MappedToIPv6 ? new IPEndPoint(endpoint.Address.MapToIPv4(), endpoint.Port) : endpoint;

    /// <summary>One accepted socket's bookkeeping, so shutdown can wait for it or abort it, and a reload re-judge it.</summary>
    private sealed class ConnectionSlot(long id, Socket socket, ListenEndpoint listener, string listenerText)
    {
        /// <summary>The listener's bound address and port, for log lines.</summary>
        public string ListenerText { get; } = listenerText;

        private WireConnection? _connection;
        private int _revoked;

        public long Id { get; } = id;

        /// <summary>The admitted connection, once the handshake is done; null before.</summary>
        public WireConnection? Connection => Volatile.Read(ref _connection);

        /// <summary>
        /// Publishes the admitted connection. A full fence: paired with the one in <see cref="UpdateTrust"/>,
        /// either the reload sees this connection or the connection sees the new keys (or both).
        /// </summary>
        public void Admit(WireConnection connection) => Interlocked.Exchange(ref _connection, connection);

        /// <summary>True for the first caller only, so a revocation is logged and counted once.</summary>
        public bool TryMarkRevoked() => Interlocked.Exchange(ref _revoked, 1) == 0;

        public Socket Socket { get; } = socket;

        public ListenEndpoint Listener { get; } = listener;

        /// <summary>The peer's address (IPv4-mapped unmapped), once the connection's task has read it; for log lines.</summary>
        public IPEndPoint? Remote { get; set; }

        /// <summary>The source address this connection counts against (limits.maxConnectionsPerAddress).</summary>
        public string AddressKey { get; init; } = "?";

        /// <summary>
        /// Its place among the pending TLS handshakes (limits.maxPendingHandshakes) while its handshake
        /// runs; null on plain listeners and once the handshake has ended (so an idle connection does not keep it).
        /// </summary>
        public PendingHandshakes.Entry? Handshake { get; set; }

        /// <summary>The pin this connection counts against once admitted (limits.maxConnectionsPerPrincipal), or null.</summary>
        public string? PrincipalKey { get; set; }
    }
}
