using System.Net;
using Gatehouse.Proxy;
using Microsoft.Extensions.Logging;

namespace Gatehouse.Peers;

/// <summary>
/// One peer of the table: its pins, its configured addresses and their pool, and, when discovery
/// has heard it elsewhere (issue 21), a second pool that dials the heard addresses first and the
/// configured ones after. The second pool is rebuilt when the heard addresses change; the one it
/// replaces closes a little later, after requests that already picked it have leased.
/// </summary>
internal sealed partial class PeerLink : IAsyncDisposable
{
    private static readonly TimeSpan RetireAfter = TimeSpan.FromSeconds(10);

    private readonly Lock _lock = new();
    private readonly List<UpstreamPool> _retiring = [];
    private (IPEndPoint[] Heard, UpstreamPool Pool)? _discovered;
    private bool _disposed;

    public PeerLink(string name, IReadOnlyList<string> pins, IReadOnlyList<EndPoint> configured, UpstreamTls tls, UpstreamOptions options, UpstreamPool pool)
    {
        Name = name;
        Pins = pins;
        Configured = configured;
        Tls = tls;
        Options = options;
        Pool = pool;
    }

    public string Name { get; }

    public IReadOnlyList<string> Pins { get; }

    public IReadOnlyList<EndPoint> Configured { get; }

    public UpstreamTls Tls { get; }

    public UpstreamOptions Options { get; }

    /// <summary>The pool over the configured addresses alone.</summary>
    public UpstreamPool Pool { get; }

    /// <summary>
    /// The pool to use now: the configured one when discovery heard nothing new, else one that tries
    /// <paramref name="heard"/> (most recent first) before the configured addresses. Safe because the
    /// TLS handshake accepts only this peer's pins, wherever it dials.
    /// </summary>
    public UpstreamPool PoolFor(IReadOnlyList<IPEndPoint> heard, ILogger logger)
    {
        var fresh = heard.Where(address => !Configured.Contains(address)).ToArray();
        if (fresh.Length == 0)
        {
            return Pool;
        }

        UpstreamPool? retired = null;
        UpstreamPool pool;
        lock (_lock)
        {
            if (_discovered is { } current && current.Heard.SequenceEqual(fresh))
            {
                return current.Pool;
            }

            ObjectDisposedException.ThrowIf(_disposed, this);
            pool = new UpstreamPool([.. fresh, .. Configured], Tls, Options, logger);
            retired = _discovered?.Pool;
            _discovered = (fresh, pool);
            if (retired is not null)
            {
                _retiring.Add(retired);
            }
        }

        LogDialling(logger, Name, string.Join(", ", fresh.Select(Discovery.LinkDiscovery.Display)));
        if (retired is not null)
        {
            _ = RetireAsync(retired);
        }

        return pool;
    }

    public async ValueTask DisposeAsync()
    {
        List<UpstreamPool> pools;
        lock (_lock)
        {
            _disposed = true;
            pools = [Pool, .. _retiring];
            if (_discovered is { } current)
            {
                pools.Add(current.Pool);
            }

            _retiring.Clear();
            _discovered = null;
        }

        foreach (var pool in pools)
        {
            await pool.DisposeAsync().ConfigureAwait(false);
        }
    }

    private async Task RetireAsync(UpstreamPool pool)
    {
        await Task.Delay(RetireAfter).ConfigureAwait(false);
        lock (_lock)
        {
            if (!_retiring.Remove(pool))
            {
                return; // disposed with the link already
            }
        }

        await pool.DisposeAsync().ConfigureAwait(false);
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "peer link to {Peer}: dialling where discovery heard it first: {Addresses}")]
    private static partial void LogDialling(ILogger logger, string peer, string addresses);
}
