using System.Diagnostics;
using System.Diagnostics.Metrics;
using System.Text;
using Gatehouse.Http1.WebSockets;
using Gatehouse.WebSockets.Tests.Support;
using Xunit.Abstractions;

namespace Gatehouse.WebSockets.Tests;

/// <summary>
/// Small server frames written while more input is already buffered share TLS records (issue 22);
/// nothing is held for long: a read that must wait, a control frame or the safety net sends it.
/// </summary>
[Collection(WsCollection.Name)]
public sealed class CoalescingTests(WsServerFixture fixture, ITestOutputHelper output)
{
    private const int Burst = 16;
    private static readonly TimeSpan Prompt = TimeSpan.FromSeconds(1);

    [Fact]
    public async Task ABurstOfSmallMessagesIsEchoedWholeInFewRecords()
    {
        long held = 0;
        using var listener = HeldWritesListener(value => Interlocked.Add(ref held, value));
        await using var client = await UpgradeAsync("/echo");
        await client.SendAsync(RawWsClient.MaskedFrame(2, new byte[64]));
        Assert.Equal(64, (await NextFrameAsync(client)).Payload.Length); // settles the handshake's records

        var before = client.RecordsReceived;
        await client.SendAsync(Frames(Burst, i => Message(i, 64)));
        for (var i = 0; i < Burst; i++)
        {
            var frame = await NextFrameAsync(client);
            Assert.Equal(2, frame.Opcode);
            Assert.Equal(Message(i, 64), frame.Payload);
        }

        var records = client.RecordsReceived - before;
        output.WriteLine($"{Burst} echoes came in {records} TLS records; {Interlocked.Read(ref held)} writes held");
        Assert.InRange(records, 1, Burst / 2);
        Assert.True(Interlocked.Read(ref held) >= Burst / 2, "the held writes were not counted");
    }

    [Fact]
    public async Task EchoesHeldBeforeACloseGoOutBeforeTheCloseReply()
    {
        await using var client = await UpgradeAsync("/echo");
        var close = RawWsClient.MaskedFrame(8, [0x03, 0xE8]); // 1000
        await client.SendAsync([.. Frames(Burst, i => Message(i, 32)), .. close]);
        for (var i = 0; i < Burst; i++)
        {
            Assert.Equal(Message(i, 32), (await NextFrameAsync(client)).Payload);
        }

        var reply = await NextFrameAsync(client);
        Assert.Equal(1000, reply.CloseCode);
        Assert.True(await client.ServerClosesAsync(TimeSpan.FromSeconds(5)));
    }

    [Fact]
    public async Task AReplyIsSentPromptlyWhenTheHandlerStopsReadingWithInputWaiting()
    {
        await using var client = await UpgradeAsync("/reply-then-wait");
        await client.SendAsync(Frames(2, i => Message(i, 64))); // the second stays unread in the server's buffer
        var clock = Stopwatch.StartNew();
        var reply = await NextFrameAsync(client);
        output.WriteLine($"the reply came after {clock.Elapsed.TotalMilliseconds:F1} ms");
        Assert.Equal(Message(0, 64), reply.Payload);
        Assert.InRange(clock.Elapsed, TimeSpan.Zero, Prompt);
    }

    [Fact]
    public async Task PushesAfterAReadWithInputWaitingEachArrivePromptly()
    {
        await using var client = await UpgradeAsync("/read-once-then-push");
        await client.SendAsync(Frames(2, i => Message(i, 64)));
        var clock = Stopwatch.StartNew();
        for (var i = 0; i < 5; i++)
        {
            var push = await NextFrameAsync(client);
            output.WriteLine($"push {i} after {clock.Elapsed.TotalMilliseconds:F1} ms");
            Assert.Equal($"push-{i}", Encoding.UTF8.GetString(push.Payload));
            Assert.InRange(clock.Elapsed, TimeSpan.Zero, Prompt);
            clock.Restart();
        }
    }

    [Fact]
    public async Task AnAbortWhileAnEchoMayBeHeldLeavesNoUnobservedFailure()
    {
        var unobserved = new List<Exception>();
        EventHandler<UnobservedTaskExceptionEventArgs> record = (_, e) =>
        {
            lock (unobserved)
            {
                unobserved.Add(e.Exception);
            }
        };
        TaskScheduler.UnobservedTaskException += record;
        try
        {
            for (var round = 0; round < 20; round++)
            {
                var id = Probes.NewId();
                await using var client = await UpgradeAsync("/reply-then-abort?id=" + id);
                await client.SendAsync(Frames(2, i => Message(i, 64)));
                await fixture.Probes[id].Ended.Task.WaitAsync(TimeSpan.FromSeconds(5));
                Assert.True(await client.ServerClosesAsync(TimeSpan.FromSeconds(5)));
            }

            GC.Collect();
            GC.WaitForPendingFinalizers();
            GC.Collect();
        }
        finally
        {
            TaskScheduler.UnobservedTaskException -= record;
        }

        lock (unobserved)
        {
            Assert.DoesNotContain(unobserved, e => e.ToString().Contains("Gatehouse", StringComparison.Ordinal));
        }

        // The gate still serves.
        await using var next = await UpgradeAsync("/echo");
        await next.SendAsync(RawWsClient.MaskedFrame(2, Message(7, 64)));
        Assert.Equal(Message(7, 64), (await NextFrameAsync(next)).Payload);
    }

    private static byte[] Message(int index, int length) => [.. Enumerable.Range(0, length).Select(j => (byte)(index + j))];

    private static byte[] Frames(int count, Func<int, byte[]> payload) =>
        [.. Enumerable.Range(0, count).SelectMany(i => RawWsClient.MaskedFrame(2, payload(i)))];

    private static async Task<RawWsClient.Frame> NextFrameAsync(RawWsClient client)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(5));
        return await client.ReadFrameAsync(timeout.Token) ?? throw new IOException("the server closed the connection");
    }

    private static MeterListener HeldWritesListener(Action<long> add)
    {
        var listener = new MeterListener();
        listener.InstrumentPublished = (instrument, l) =>
        {
            if (instrument.Meter.Name == WebSocketMetrics.MeterName && instrument.Name == "gatehouse.websocket.writes.held")
            {
                l.EnableMeasurementEvents(instrument);
            }
        };
        listener.SetMeasurementEventCallback<long>((_, value, _, _) => add(value));
        listener.Start();
        return listener;
    }

    private async Task<RawWsClient> UpgradeAsync(string path)
    {
        var client = await RawWsClient.ConnectAsync(fixture.V4, fixture.Pki.Client, fixture.Pki.Identity.Pin);
        await client.SendAsync(RawWsClient.UpgradeRequest(path));
        Assert.StartsWith("HTTP/1.1 101", await client.ReadHeadAsync(TimeSpan.FromSeconds(5)), StringComparison.Ordinal);
        return client;
    }
}
