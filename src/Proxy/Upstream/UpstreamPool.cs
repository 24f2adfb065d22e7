using System.Net;
using System.Net.Sockets;
using System.Security.Authentication;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Gatehouse.Proxy;

/// <summary>
/// Keep-alive connections to the upstream nodes, reused across clients (issue 3). Requests are
/// spread round-robin over healthy nodes; a node that refuses connections is skipped for
/// <see cref="UpstreamOptions.NodeRetryAfter"/> (unless every node is down, when all are tried).
/// Each node's pool is bounded, and a connection goes back to it only after a complete keep-alive
/// answer with nothing left unread: any doubt, and it is closed.
/// </summary>
public sealed class UpstreamPool : IAsyncDisposable
{
    private readonly NodeConnections[] _nodes;
    private readonly Timer _evictionTimer;
    private int _next = -1;
    private int _preferred = -1; // index of the node that last answered, with PreferLastGoodNode
    private long _opened;
    private int _disposed;

    /// <summary>Creates the pool; nothing connects until the first request.</summary>
    /// <param name="nodes"><c>http://</c> node URLs (IPv4, <c>[IPv6]</c>, host name) or <c>unix:/path/to.sock</c>.</param>
    /// <exception cref="ArgumentException">No node, an unsupported URL, or an invalid option.</exception>
    public UpstreamPool(IReadOnlyList<Uri> nodes, UpstreamOptions options, ILogger? logger = null)
    {
        ArgumentNullException.ThrowIfNull(nodes);
        ArgumentNullException.ThrowIfNull(options);
        if (nodes.Count == 0)
        {
            throw new ArgumentException("at least one upstream node is needed", nameof(nodes));
        }

        options.Validate();
        Options = options;
        Logger = logger ?? NullLogger.Instance;
        _nodes = [.. nodes.Select(uri => new NodeConnections(UpstreamNode.FromUri(uri), options))];
        _evictionTimer = StartEviction(options);
        ProxyMetrics.Track(this);
    }

    /// <summary>
    /// Creates a pool of TLS connections to one peer reachable at several addresses (issue 8): each
    /// connection presents <see cref="UpstreamTls.ClientCertificate"/> and accepts the server only
    /// when its key is one of <see cref="UpstreamTls.Pins"/>. Addresses are tried in order; set
    /// <see cref="UpstreamOptions.PreferLastGoodNode"/> to keep the one that answered.
    /// </summary>
    /// <param name="addresses"><see cref="IPEndPoint"/>s (zones kept) or <see cref="DnsEndPoint"/>s, e.g. from <see cref="UpstreamAddress.Parse"/>.</param>
    /// <exception cref="ArgumentException">No address, or an invalid option.</exception>
    public UpstreamPool(IReadOnlyList<EndPoint> addresses, UpstreamTls tls, UpstreamOptions options, ILogger? logger = null)
    {
        ArgumentNullException.ThrowIfNull(addresses);
        ArgumentNullException.ThrowIfNull(tls);
        ArgumentNullException.ThrowIfNull(options);
        if (addresses.Count == 0)
        {
            throw new ArgumentException("at least one upstream address is needed", nameof(addresses));
        }

        options.Validate();
        Options = options;
        Logger = logger ?? NullLogger.Instance;
        _nodes = [.. addresses.Select(address => new NodeConnections(UpstreamNode.ForTls(address, tls), options))];
        _evictionTimer = StartEviction(options);
        ProxyMetrics.Track(this);
    }

    private Timer StartEviction(UpstreamOptions options)
    {
        var sweep = TimeSpan.FromTicks(Math.Max(TimeSpan.TicksPerSecond, options.PooledIdleTime.Ticks / 2));
        return new Timer(static state => ((UpstreamPool)state!).EvictIdle(), this, sweep, sweep);
    }

    public UpstreamOptions Options { get; }

    internal ILogger Logger { get; }

    /// <summary>Connections opened since the pool was made (for tests and metrics).</summary>
    public long ConnectionsOpened => Interlocked.Read(ref _opened);

    /// <summary>The nodes and their connections, for the pool gauges of <see cref="ProxyMetrics"/>.</summary>
    internal IReadOnlyList<NodeConnections> Nodes => _nodes;

    /// <summary>Idle connections waiting in the pool now, over all nodes.</summary>
    public int IdleConnections => _nodes.Sum(n => n.IdleCount);

    /// <summary>
    /// Leases a connection: a pooled one when <paramref name="fresh"/> is false and one is idle on
    /// the chosen node, else a new one. Throws <see cref="UpstreamConnectException"/> when no node can be reached.
    /// <paramref name="retrySafe"/>: the caller sends the request again on a fresh connection when
    /// a pooled one fails before any answer byte (see <see cref="NodeConnections.TakeIdle"/>).
    /// </summary>
    internal async ValueTask<UpstreamConnection> LeaseAsync(bool fresh, bool retrySafe, CancellationToken cancellationToken)
    {
        ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);
        Exception? lastError = null;
        var timedOut = false;
        UpstreamPinMismatchException? pinMismatch = null;
        foreach (var node in NodesInTurn())
        {
            if (!await node.WaitForSlotAsync(Options.ResponseHeaderTimeout, cancellationToken).ConfigureAwait(false))
            {
                // Every slot is held (long feeds, or a burst): waiting longer would only hide it.
                timedOut = true;
                lastError = new TimeoutException($"no free connection to {node.Node} within {Options.ResponseHeaderTimeout}");
                continue;
            }

            try
            {
                if (!fresh)
                {
                    List<UpstreamConnection>? discard = null;
                    var idle = node.TakeIdle(retrySafe, ref discard);
                    if (discard is not null)
                    {
                        await DisposeAllAsync(discard).ConfigureAwait(false);
                    }

                    if (idle is not null)
                    {
                        return idle;
                    }
                }

                var connection = await ConnectAsync(node.Node, cancellationToken).ConfigureAwait(false);
                ProxyMetrics.Connects.Add(1, node.UpstreamTag);
                node.Node.MarkUp();
                Volatile.Write(ref _preferred, Array.IndexOf(_nodes, node));
                return connection;
            }
            catch (UpstreamPinMismatchException ex)
            {
                // Whoever answers there is not the peer (another device on a reused address, or an
                // attacker): skip the address like a refusal and try the next one.
                node.ReleaseSlot();
                node.Node.MarkDown(Options.NodeRetryAfter);
                ProxyMetrics.ConnectFailures.Add(1, node.UpstreamTag, ProxyMetrics.ReasonPinMismatch);
                pinMismatch = ex;
                lastError = ex;
                timedOut = false;
                ProxyLog.UpstreamRefused(Logger, node.Node, UpstreamPinMismatchException.ClientReason, ex.Message);
            }
            catch (Exception ex) when (ex is SocketException or TimeoutException
                || (node.Node.Tls is not null && ex is AuthenticationException or IOException))
            {
                node.ReleaseSlot();
                node.Node.MarkDown(Options.NodeRetryAfter);
                timedOut = ex is TimeoutException;
                ProxyMetrics.ConnectFailures.Add(1, node.UpstreamTag, ex switch
                {
                    TimeoutException => ProxyMetrics.ReasonTimeout,
                    SocketException => ProxyMetrics.ReasonRefused,
                    _ => ProxyMetrics.ReasonTls,
                });
                lastError = ex;
                ProxyLog.UpstreamUnreachable(Logger, node.Node, Options.NodeRetryAfter, ex.Message);
            }
            catch
            {
                node.ReleaseSlot();
                throw;
            }
        }

        throw new UpstreamConnectException("no upstream node could be reached", timedOut, lastError)
        {
            ClientReason = pinMismatch is null ? null : UpstreamPinMismatchException.ClientReason,
        };
    }

    /// <summary>Gives a leased connection back: into the pool when <paramref name="reusable"/>, else closed.</summary>
    internal async ValueTask ReleaseAsync(UpstreamConnection connection, bool reusable)
    {
        var node = FindNode(connection.Node);
        try
        {
            if (reusable && Volatile.Read(ref _disposed) == 0 && !connection.IsDisposed && node.ReturnIdle(connection))
            {
                return;
            }

            await connection.DisposeAsync().ConfigureAwait(false);
        }
        finally
        {
            node.ReleaseSlot();
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        ProxyMetrics.Untrack(this);
        await _evictionTimer.DisposeAsync().ConfigureAwait(false);
        foreach (var node in _nodes)
        {
            await DisposeAllAsync(node.Close()).ConfigureAwait(false);
        }
    }

    /// <summary>
    /// Healthy nodes round-robin from the next turn; when none is healthy, every node, soonest-back
    /// first. A single node is its own turn (whatever its health, it is tried): the array itself,
    /// so the common one-backend route allocates no iterator per request.
    /// </summary>
    private NodeConnections[] NodesInTurn() =>
        _nodes.Length == 1 ? _nodes
        : Options.PreferLastGoodNode ? NodesByPreference() : NodesRoundRobin();

    /// <summary>The node that last answered first, then the others in configured order (issue 8).</summary>
    private NodeConnections[] NodesByPreference()
    {
        var preferred = Volatile.Read(ref _preferred);
        var order = preferred < 0
            ? _nodes
            : _nodes.Where((_, i) => i == preferred).Concat(_nodes.Where((_, i) => i != preferred));
        return WithHealthyFirst(order.ToArray());
    }

    /// <summary>Healthy nodes in <paramref name="order"/>; when none is healthy, every node, soonest-back first.</summary>
    private static NodeConnections[] WithHealthyFirst(NodeConnections[] order)
    {
        var healthy = order.Where(n => n.Node.IsHealthy).ToArray();
        // All marked down: a refused node is only skipped while another can serve (issue 3),
        // so try them all rather than answer 502 without asking.
        return healthy.Length > 0 ? healthy : [.. order.OrderBy(n => n.Node.DownUntil)];
    }

    private NodeConnections[] NodesRoundRobin()
    {
        var start = (int)((uint)Interlocked.Increment(ref _next) % (uint)_nodes.Length);
        var order = new NodeConnections[_nodes.Length];
        for (var i = 0; i < _nodes.Length; i++)
        {
            order[i] = _nodes[(start + i) % _nodes.Length];
        }

        return WithHealthyFirst(order);
    }

    private async ValueTask<UpstreamConnection> ConnectAsync(UpstreamNode node, CancellationToken cancellationToken)
    {
        var socket = node.IsUnixSocket
            ? new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified)
            : new Socket(SocketType.Stream, ProtocolType.Tcp);
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(Options.ConnectTimeout);
        try
        {
            if (!node.IsUnixSocket)
            {
                socket.NoDelay = true; // request heads and small docs must not wait for Nagle
            }

            await socket.ConnectAsync(node.EndPoint, timeout.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            socket.Dispose();
            throw new TimeoutException($"connect to {node} timed out after {Options.ConnectTimeout}");
        }
        catch
        {
            socket.Dispose();
            throw;
        }

        if (node.Tls is { } tls)
        {
            return await HandshakeAsync(node, socket, tls, cancellationToken).ConfigureAwait(false);
        }

        Interlocked.Increment(ref _opened);
        return new UpstreamConnection(node, socket, Options.Buffers.Memory);
    }

    /// <summary>The TLS handshake of a peer link, bounded by the connect timeout too (a silent server must not hold the slot).</summary>
    private async ValueTask<UpstreamConnection> HandshakeAsync(UpstreamNode node, Socket socket, UpstreamTls tls, CancellationToken cancellationToken)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(Options.ConnectTimeout);
        try
        {
            var stream = await TlsUpstreamHandshake.AuthenticateAsync(socket, node, tls, timeout.Token).ConfigureAwait(false);
            Interlocked.Increment(ref _opened);
            return new UpstreamConnection(node, socket, stream, Options.Buffers.Memory);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            socket.Dispose();
            throw new TimeoutException($"TLS handshake with {node} timed out after {Options.ConnectTimeout}");
        }
        catch
        {
            socket.Dispose(); // the handshake disposed its stream already; this covers a throw before it existed
            throw;
        }
    }

    private NodeConnections FindNode(UpstreamNode node)
    {
        foreach (var candidate in _nodes)
        {
            if (ReferenceEquals(candidate.Node, node))
            {
                return candidate;
            }
        }

        throw new InvalidOperationException("connection from another pool");
    }

    private void EvictIdle()
    {
        foreach (var node in _nodes)
        {
            foreach (var connection in node.Evict(all: false))
            {
                _ = connection.DisposeAsync().AsTask();
            }
        }
    }

    private static async ValueTask DisposeAllAsync(List<UpstreamConnection> connections)
    {
        foreach (var connection in connections)
        {
            await connection.DisposeAsync().ConfigureAwait(false);
        }
    }
}
