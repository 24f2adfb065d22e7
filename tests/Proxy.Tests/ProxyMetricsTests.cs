using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using System.Net;
using System.Net.Sockets;
using Gatehouse.Testing;

namespace Gatehouse.Proxy.Tests;

/// <summary>
/// The "Gatehouse.Proxy" instruments move with real upstream traffic: connects, connect failures,
/// waits for a slot (and their duration), stale-connection retries and the pool gauges. Each test
/// reads only the series tagged with its own upstream, so tests running alongside do not disturb it.
/// </summary>
public sealed class ProxyMetricsTests : IDisposable
{
    private readonly MeterListener _listener = new();
    private readonly ConcurrentDictionary<string, double> _totals = new();
    private readonly ConcurrentDictionary<string, double> _latest = new();

    public ProxyMetricsTests()
    {
        _listener.InstrumentPublished = (instrument, listener) =>
        {
            if (instrument.Meter.Name == ProxyMetrics.MeterName)
            {
                listener.EnableMeasurementEvents(instrument);
            }
        };
        _listener.SetMeasurementEventCallback<long>((instrument, value, tags, _) => Record(instrument, value, tags));
        _listener.SetMeasurementEventCallback<int>((instrument, value, tags, _) => Record(instrument, value, tags));
        _listener.SetMeasurementEventCallback<double>((instrument, value, tags, _) => Record(instrument, value, tags));
        _listener.Start();
    }

    public void Dispose() => _listener.Dispose();

    [Fact]
    public async Task CountsConnectsAndShowsTheConnectionIdleInThePool()
    {
        await using var upstream = new FakeUpstream(ServeOkForever);
        await using var gateway = new Gateway([upstream.Uri]);
        using var client = await gateway.ConnectAsync();
        for (var i = 0; i < 3; i++)
        {
            await client.SendAsync("GET /couch/db/a HTTP/1.1\r\nHost: g\r\n\r\n");
            Assert.Equal(200, (await client.ReadResponseAsync()).Status);
        }

        var tag = Upstream(upstream.Uri);
        Assert.Equal(1, Total("gatehouse.upstream.connects", tag));
        Assert.Equal(0, Total("gatehouse.upstream.connect.failures", tag + "|reason=refused"));

        // The answer reaches the client just before the connection goes back to the pool: poll briefly.
        await Until(() => Gauge("gatehouse.upstream.pool.idle", tag) == 1);
        Assert.Equal(0, Gauge("gatehouse.upstream.pool.in_use", tag));
        Assert.Equal(1, Gauge("gatehouse.upstream.pool.connections", tag));
    }

    [Fact]
    public async Task CountsConnectFailuresByReason()
    {
        using var closed = LoopbackSockets.ReserveClosedPort();
        var dead = new Uri($"http://127.0.0.1:{((IPEndPoint)closed.LocalEndPoint!).Port}/");
        await using var gateway = new Gateway([dead]);
        using var client = await gateway.ConnectAsync();
        await client.SendAsync("GET /couch/db/a HTTP/1.1\r\nHost: g\r\n\r\n");
        Assert.Equal(502, (await client.ReadResponseAsync()).Status);

        Assert.Equal(1, Total("gatehouse.upstream.connect.failures", Upstream(dead) + "|reason=refused"));
        Assert.Equal(0, Total("gatehouse.upstream.connects", Upstream(dead)));
    }

    [Fact]
    public async Task CountsAWaitForABusySlotAndItsDuration()
    {
        var holdFirst = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var firstArrived = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var upstream = new FakeUpstream(async (c, index) =>
        {
            var first = true;
            while (await c.ReadRequestAsync() is not null)
            {
                if (first && index == 0)
                {
                    first = false;
                    firstArrived.TrySetResult();
                    await holdFirst.Task; // the only slot stays held until the second request queues
                }

                await c.WriteAsync("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok");
            }
        });
        await using var gateway = new Gateway([upstream.Uri], new UpstreamOptions { MaxConnectionsPerNode = 1 });
        var tag = Upstream(upstream.Uri);

        using var one = await gateway.ConnectAsync();
        using var two = await gateway.ConnectAsync();
        await one.SendAsync("GET /couch/db/a HTTP/1.1\r\nHost: g\r\n\r\n");
        await firstArrived.Task.WaitAsync(TimeSpan.FromSeconds(30));
        await two.SendAsync("GET /couch/db/b HTTP/1.1\r\nHost: g\r\n\r\n");
        await Until(() => Gauge("gatehouse.upstream.pool.pending", tag) == 1);
        Assert.Equal(1, Gauge("gatehouse.upstream.pool.in_use", tag));
        holdFirst.SetResult();

        Assert.Equal(200, (await one.ReadResponseAsync()).Status);
        Assert.Equal(200, (await two.ReadResponseAsync()).Status);
        Assert.Equal(1, Total("gatehouse.upstream.pool.waits", tag + "|result=ok"));
        Assert.Equal(1, Count("gatehouse.upstream.pool.wait.duration", tag));
        Assert.True(Total("gatehouse.upstream.pool.wait.duration", tag) > 0);
        Assert.Equal(1, Total("gatehouse.upstream.connects", tag)); // the waiter reused the released connection
    }

    [Fact]
    public async Task CountsARetryOnAFreshConnection()
    {
        await using var upstream = new FakeUpstream(async (c, index) =>
        {
            if (index == 0)
            {
                await c.ReadRequestAsync();
                await c.WriteAsync("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nfirst");
                await c.ReadRequestAsync(); // the second request arrives on the pooled connection, which then closes
                return;
            }

            await ServeOkForever(c, index);
        });
        await using var gateway = new Gateway([upstream.Uri]);
        using var client = await gateway.ConnectAsync();
        await client.SendAsync("GET /couch/db/a HTTP/1.1\r\nHost: g\r\n\r\n");
        Assert.Equal(200, (await client.ReadResponseAsync()).Status);
        await client.SendAsync("GET /couch/db/b HTTP/1.1\r\nHost: g\r\n\r\n");
        Assert.Equal(200, (await client.ReadResponseAsync()).Status);

        var tag = Upstream(upstream.Uri);
        Assert.Equal(1, Total("gatehouse.upstream.retries", tag));
        Assert.Equal(2, Total("gatehouse.upstream.connects", tag));
    }

    private static async Task ServeOkForever(FakeConnection c, int index)
    {
        while (await c.ReadRequestAsync() is not null)
        {
            await c.WriteAsync("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok");
        }
    }

    private static string Upstream(Uri uri) => "|upstream=" + uri;


    private static async Task Until(Func<bool> condition)
    {
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (!condition())
        {
            Assert.True(DateTime.UtcNow < deadline, "condition not met within 30 s");
            await Task.Delay(20);
        }
    }

    private double Total(string name, string tags) => _totals.GetValueOrDefault(name + tags);

    private double Count(string name, string tags) => _totals.GetValueOrDefault("#" + name + tags);

    private double Gauge(string name, string tags)
    {
        _listener.RecordObservableInstruments();
        return _latest.GetValueOrDefault(name + tags, -1);
    }

    private void Record(Instrument instrument, double value, ReadOnlySpan<KeyValuePair<string, object?>> tags)
    {
        var key = instrument.Name;
        foreach (var tag in tags) // in the order the code adds them: upstream first
        {
            key += $"|{tag.Key}={tag.Value}";
        }

        if (instrument.IsObservable)
        {
            _latest[key] = value;
            return;
        }

        _totals.AddOrUpdate(key, value, (_, old) => old + value);
        _totals.AddOrUpdate("#" + key, 1, (_, old) => old + 1);
    }
}
