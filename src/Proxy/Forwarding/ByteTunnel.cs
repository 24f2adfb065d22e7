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

    /// <summary>Close 1001 (going away), unmasked as a server's frames are.</summary>
    private static readonly byte[] GoingAway = [0x88, 0x02, 0x03, 0xE9];

    /// <param name="webSocket">The tunnel carries WebSocket frames: on <paramref name="draining"/> the frame under way finishes and the client gets close 1001.</param>
    /// <param name="draining">The server begins to stop: the tunnel ends (a tunnel never ends by itself).</param>
    /// <param name="aborting">The shutdown grace is over: the tunnel ends at once.</param>
    public static async Task<TunnelEnd> RunAsync(Stream client, PipeReader upstreamReader, Stream upstreamWriter, TimeSpan idleTimeout, ArrayPool<byte> pool, bool webSocket, CancellationToken draining, CancellationToken aborting)
    {
        using var tunnel = CancellationTokenSource.CreateLinkedTokenSource(aborting, webSocket ? default : draining);
        // The upstream read wakes up to look at the drain; it then ends at the next frame boundary.
        using var wake = webSocket ? draining.UnsafeRegister(static reader => ((PipeReader)reader!).CancelPendingRead(), upstreamReader) : default;
        var activity = new TunnelActivity();
        var toUpstream = ClientToUpstreamAsync(client, upstreamWriter, activity, pool, tunnel.Token);
        var toClient = UpstreamToClientAsync(upstreamReader, client, activity, webSocket ? new WebSocketFrameCursor() : null, draining, tunnel.Token);
        var watchdog = WatchIdleAsync(activity, idleTimeout, tunnel);
        var first = await Task.WhenAny(toUpstream, toClient, watchdog).ConfigureAwait(false);
        await tunnel.CancelAsync().ConfigureAwait(false);
        await Task.WhenAll(Quietly(toUpstream), Quietly(toClient), Quietly(watchdog)).ConfigureAwait(false);
        if (draining.IsCancellationRequested || aborting.IsCancellationRequested)
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

    private static async Task UpstreamToClientAsync(PipeReader upstream, Stream client, TunnelActivity activity, WebSocketFrameCursor? frames, CancellationToken draining, CancellationToken cancellationToken)
    {
        while (true)
        {
            var result = await upstream.ReadAsync(cancellationToken).ConfigureAwait(false);
            var buffer = result.Buffer;
            var stopAt = frames is not null && draining.IsCancellationRequested;
            var consumed = buffer.Start;
            try
            {
                foreach (var segment in buffer)
                {
                    if (stopAt && frames!.AtBoundary)
                    {
                        break;
                    }

                    // Following the frames costs a look at each header; payload bytes are counted, not read.
                    var length = frames?.Advance(segment.Span, stopAt) ?? segment.Length;
                    activity.Touch();
                    await client.WriteAsync(segment[..length], cancellationToken).ConfigureAwait(false);
                    consumed = buffer.GetPosition(length, consumed);
                }
            }
            finally
            {
                upstream.AdvanceTo(consumed, buffer.End);
            }

            if (stopAt && frames!.AtBoundary)
            {
                // RFC 6455 §7.4.1: 1001, the server is going away; the client reconnects later.
                await client.WriteAsync(GoingAway, cancellationToken).ConfigureAwait(false);
                await client.FlushAsync(cancellationToken).ConfigureAwait(false);
                return;
            }

            if (result.IsCompleted || (result.IsCanceled && frames is null))
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
