using System.Buffers;
using System.IO.Pipelines;
using System.Net.Sockets;

namespace Gatehouse.Proxy;

/// <summary>Why a tunnel ended (for the log).</summary>
internal enum TunnelEnd
{
    ClientClosed,
    UpstreamClosed,
    IdleTimeout,
    Stopping,
}

/// <summary>
/// Copies bytes both ways after a protocol switch (STYLE.md Forwarding): two loops on their own
/// tasks; when one ends (its side closed or failed), the other is cancelled and both are awaited,
/// so no loop outlives the tunnel. Only silence both ways longer than the idle timeout ends a live
/// tunnel; request timeouts do not apply here.
/// </summary>
internal static class ByteTunnel
{
    private const int PieceSize = 16 * 1024;

    public static async Task<TunnelEnd> RunAsync(Stream client, PipeReader upstreamReader, Stream upstreamWriter, TimeSpan idleTimeout, ArrayPool<byte> pool, CancellationToken stopping)
    {
        using var tunnel = CancellationTokenSource.CreateLinkedTokenSource(stopping);
        var activity = new TunnelActivity();
        var toUpstream = ClientToUpstreamAsync(client, upstreamWriter, activity, pool, tunnel.Token);
        var toClient = UpstreamToClientAsync(upstreamReader, client, activity, tunnel.Token);
        var watchdog = WatchIdleAsync(activity, idleTimeout, tunnel);
        var first = await Task.WhenAny(toUpstream, toClient, watchdog).ConfigureAwait(false);
        await tunnel.CancelAsync().ConfigureAwait(false);
        await Task.WhenAll(Quietly(toUpstream), Quietly(toClient), Quietly(watchdog)).ConfigureAwait(false);
        if (stopping.IsCancellationRequested)
        {
            return TunnelEnd.Stopping;
        }

        return first == toUpstream ? TunnelEnd.ClientClosed : first == toClient ? TunnelEnd.UpstreamClosed : TunnelEnd.IdleTimeout;
    }

    private static async Task ClientToUpstreamAsync(Stream client, Stream upstream, TunnelActivity activity, ArrayPool<byte> pool, CancellationToken cancellationToken)
    {
        var buffer = pool.Rent(PieceSize);
        var used = 0;
        try
        {
            while (true)
            {
                var read = await client.ReadAsync(buffer.AsMemory(0, PieceSize), cancellationToken).ConfigureAwait(false);
                if (read == 0)
                {
                    return;
                }

                used = Math.Max(used, read);
                activity.Touch();
                await upstream.WriteAsync(buffer.AsMemory(0, read), cancellationToken).ConfigureAwait(false);
            }
        }
        finally
        {
            // The buffer carried the client's bytes: clear it before anyone else rents it.
            buffer.AsSpan(0, used).Clear();
            pool.Return(buffer);
        }
    }

    private static async Task UpstreamToClientAsync(PipeReader upstream, Stream client, TunnelActivity activity, CancellationToken cancellationToken)
    {
        while (true)
        {
            var result = await upstream.ReadAsync(cancellationToken).ConfigureAwait(false);
            var buffer = result.Buffer;
            try
            {
                foreach (var segment in buffer)
                {
                    activity.Touch();
                    await client.WriteAsync(segment, cancellationToken).ConfigureAwait(false);
                }
            }
            finally
            {
                upstream.AdvanceTo(buffer.End);
            }

            if (result.IsCompleted || result.IsCanceled)
            {
                return;
            }
        }
    }

    private static async Task WatchIdleAsync(TunnelActivity activity, TimeSpan idleTimeout, CancellationTokenSource tunnel)
    {
        while (true)
        {
            var quietFor = activity.QuietFor;
            if (quietFor >= idleTimeout)
            {
                return;
            }

            await Task.Delay(idleTimeout - quietFor, tunnel.Token).ConfigureAwait(false);
        }
    }

    /// <summary>Awaits a loop that was cancelled or whose side failed: either way the tunnel is over.</summary>
    private static async Task Quietly(Task loop)
    {
        try
        {
            await loop.ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is IOException or SocketException or ObjectDisposedException or OperationCanceledException or InvalidOperationException)
        {
            // A closed or reset side is how tunnels end; nothing to report beyond TunnelEnd.
        }
    }

    /// <summary>When a byte last crossed either way (Environment.TickCount64 ms).</summary>
    private sealed class TunnelActivity
    {
        private long _last = Environment.TickCount64;

        public TimeSpan QuietFor => TimeSpan.FromMilliseconds(Environment.TickCount64 - Volatile.Read(ref _last));

        public void Touch() => Volatile.Write(ref _last, Environment.TickCount64);
    }
}
