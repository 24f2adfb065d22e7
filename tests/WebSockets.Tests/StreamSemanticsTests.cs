using System.Diagnostics;
using System.Diagnostics.Metrics;
using System.Net.WebSockets;
using Gatehouse.Http1.WebSockets;
using Gatehouse.WebSockets.Tests.Support;
using Xunit.Abstractions;

namespace Gatehouse.WebSockets.Tests;

/// <summary>What an app can rely on: half-close, abrupt ends, back-pressure both ways, dead-peer detection.</summary>
[Collection(WsCollection.Name)]
public sealed class StreamSemanticsTests(WsServerFixture fixture, ITestOutputHelper output)
{
    private TestPki Pki => fixture.Pki;

    [Fact]
    public async Task HalfCloseLetsTheClientReadTheServersRemainingMessages()
    {
        using var socket = await GatehouseWebSocket.ConnectAsync(fixture.Url("/half"), Pki.Identity.Pin, Pki.Client);
        await socket.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, "done sending", Ws.Soon());
        Assert.Equal(WebSocketState.CloseSent, socket.State);
        for (var i = 0; i < 3; i++)
        {
            Assert.Equal($"after-close-{i}", await Ws.ReceiveTextAsync(socket));
        }

        Assert.Null(await Ws.ReceiveTextAsync(socket)); // the server's close completes the handshake
        Assert.Equal(WebSocketState.Closed, socket.State);
        Assert.Equal("bye", socket.CloseStatusDescription);
    }

    [Fact]
    public async Task AnAbruptClientEndSurfacesAsAnErrorOnTheServer()
    {
        var id = Probes.NewId();
        var socket = await GatehouseWebSocket.ConnectAsync(fixture.Url("/watch?id=" + id), Pki.Identity.Pin, Pki.Client);
        await Ws.SendTextAsync(socket, "ping me");
        Assert.Equal("ping me", await Ws.ReceiveTextAsync(socket));
        socket.Abort(); // TCP goes away without a close frame
        socket.Dispose();
        var ended = await fixture.Probes[id].Ended.Task.WaitAsync(TimeSpan.FromSeconds(5));
        Assert.NotNull(ended);
        Assert.IsType<WebSocketException>(ended);
    }

    [Fact]
    public async Task AnAbruptServerEndSurfacesAsAnErrorOnTheClient()
    {
        // The 1009 path aborts the server side right after its close frame; a client mid-send sees an error.
        using var socket = await GatehouseWebSocket.ConnectAsync(fixture.Url("/echo"), Pki.Identity.Pin, Pki.Client);
        var chunk = new byte[1024 * 1024];
        var error = await Record.ExceptionAsync(async () =>
        {
            for (var i = 0; i < 64; i++)
            {
                await socket.SendAsync(chunk, WebSocketMessageType.Binary, false, Ws.Soon());
            }
        });
        Assert.IsType<WebSocketException>(error);
    }

    [Fact]
    public async Task ASlowReaderStallsTheServersSendsAndServerMemoryStaysBounded()
    {
        var id = Probes.NewId();
        var probe = fixture.Probes[id];
        var before = GC.GetTotalMemory(forceFullCollection: true);
        using var socket = await GatehouseWebSocket.ConnectAsync(fixture.Url("/flood?id=" + id), Pki.Identity.Pin, Pki.Client);
        await probe.Started.Task.WaitAsync(TimeSpan.FromSeconds(5));

        // The client reads nothing. Sends complete until the socket buffers fill, then stop.
        var stalledAt = await WaitUntilStableAsync(() => probe.CompletedSends, TimeSpan.FromMilliseconds(500), TimeSpan.FromSeconds(15));
        var growth = GC.GetTotalMemory(forceFullCollection: true) - before;
        output.WriteLine($"sends stalled after {stalledAt} x 64 KiB; managed heap grew {growth / 1024} KiB");
        Assert.InRange(stalledAt * 64 * 1024, 0, 64L * 1024 * 1024); // only kernel and TLS buffers in flight
        Assert.InRange(growth, long.MinValue, 32L * 1024 * 1024);

        // Reading resumes the flow.
        var buffer = new byte[64 * 1024];
        for (var i = 0; i < 200; i++)
        {
            await socket.ReceiveAsync(buffer.AsMemory(), Ws.Soon());
        }

        Assert.True(SpinWait.SpinUntil(() => probe.CompletedSends > stalledAt, TimeSpan.FromSeconds(5)));
        socket.Abort();
    }

    [Fact]
    public async Task AServerThatDoesNotReadStallsTheClientsSends()
    {
        var id = Probes.NewId();
        var probe = fixture.Probes[id];
        using var socket = await GatehouseWebSocket.ConnectAsync(fixture.Url("/stall?id=" + id), Pki.Identity.Pin, Pki.Client);
        await probe.Started.Task.WaitAsync(TimeSpan.FromSeconds(5));
        long sent = 0;
        var chunk = new byte[64 * 1024];
        using var stop = new CancellationTokenSource();
        var sender = Task.Run(async () =>
        {
            while (!stop.IsCancellationRequested)
            {
                await socket.SendAsync(chunk, WebSocketMessageType.Binary, true, CancellationToken.None);
                Interlocked.Increment(ref sent);
            }
        });
        var stalledAt = await WaitUntilStableAsync(() => Interlocked.Read(ref sent), TimeSpan.FromMilliseconds(500), TimeSpan.FromSeconds(15));
        output.WriteLine($"client sends stalled after {stalledAt} x 64 KiB");
        Assert.False(sender.IsCompleted);
        Assert.InRange(stalledAt * 64 * 1024, 0, 64L * 1024 * 1024);
        stop.Cancel();
        socket.Abort();
        probe.Ended.TrySetResult(null);
        await Assert.ThrowsAnyAsync<Exception>(() => sender.WaitAsync(TimeSpan.FromSeconds(5)));
    }

    [Fact]
    public async Task AFrozenPeerIsDetectedWithinKeepAliveIntervalPlusTimeout()
    {
        var id = Probes.NewId();
        var probe = fixture.Probes[id];
        long keepAliveFailures = 0;
        using var listener = new MeterListener();
        listener.InstrumentPublished = (instrument, l) =>
        {
            if (instrument.Meter.Name == WebSocketMetrics.MeterName && instrument.Name == "gatehouse.websocket.keepalive.failures")
            {
                l.EnableMeasurementEvents(instrument);
            }
        };
        listener.SetMeasurementEventCallback<long>((_, value, _, _) => Interlocked.Add(ref keepAliveFailures, value));
        listener.Start();

        using var node = NodePeer.Start("ws-client.cjs", $"wss://127.0.0.1:{fixture.V4.Port}/dead?id={id}", Pki.ClientCertPath, Pki.ClientKeyPath, "hold");
        Assert.Equal("open", await node.ReadLineAsync(TimeSpan.FromSeconds(10)));
        await probe.Started.Task.WaitAsync(TimeSpan.FromSeconds(5));
        await Task.Delay(1500); // the live peer answers pings: the stream must survive them
        Assert.False(probe.Ended.Task.IsCompleted);

        node.Freeze();
        var frozen = Stopwatch.StartNew();
        var ended = await probe.Ended.Task.WaitAsync(TimeSpan.FromSeconds(10));
        output.WriteLine($"stream faulted {frozen.ElapsedMilliseconds} ms after SIGSTOP: {ended?.GetType().Name}: {ended?.Message} / {ended?.InnerException?.GetType().Name}: {ended?.InnerException?.Message}");
        Assert.NotNull(ended);
        Assert.InRange(frozen.Elapsed, TimeSpan.Zero, TimeSpan.FromSeconds(1 + 1 + 1.5));
        Assert.True(Interlocked.Read(ref keepAliveFailures) >= 1, "the keep-alive failure was not counted");
    }

    /// <summary>Polls until <paramref name="read"/> stops changing for <paramref name="quiet"/>; returns the value it settled at.</summary>
    private static async Task<long> WaitUntilStableAsync(Func<long> read, TimeSpan quiet, TimeSpan limit)
    {
        var overall = Stopwatch.StartNew();
        var last = read();
        var since = Stopwatch.StartNew();
        while (overall.Elapsed < limit)
        {
            await Task.Delay(50);
            var now = read();
            if (now != last)
            {
                last = now;
                since.Restart();
            }
            else if (since.Elapsed >= quiet && now > 0)
            {
                return now;
            }
        }

        throw new TimeoutException($"still progressing after {limit}: {last}");
    }
}
