using System.Diagnostics;
using System.Text;

namespace Gatehouse.Proxy.Tests;

/// <summary>A stopping gateway (issue 18 item 3): feeds end with their last chunk at once, other answers finish.</summary>
public sealed class DrainTests
{
    private const string FeedHead = "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n";

    [Fact]
    public async Task AFeedEndsWithTheLastChunkWhenTheStopBegins()
    {
        await using var upstream = new FakeUpstream(async (connection, _) =>
        {
            await connection.ReadHeadAsync();
            await connection.WriteAsync(FeedHead);
            // A continuous _changes feed as CouchDB sends it: one line per change, never a last chunk.
            for (var seq = 0; ; seq = (seq + 1) % 10)
            {
                await connection.WriteAsync($"a\r\n{{\"seq\":{seq}}}\n\r\n");
                await Task.Delay(100);
            }
        });
        await using var gateway = new Gateway([upstream.Uri], configure: plan => plan.IsFeed = true);
        using var client = await gateway.ConnectAsync();
        await client.SendAsync("GET /couch/db/_changes?feed=continuous HTTP/1.1\r\nHost: gw\r\n\r\n");
        Assert.Equal(200, (await client.ReadHeadAsync()).Status);
        Assert.Equal("0000000A\r\n{\"seq\":0}\n\r\n", Encoding.ASCII.GetString(await client.ReadExactlyAsync(22))); // re-chunked by the gateway

        var clock = Stopwatch.StartNew();
        var stop = gateway.StopAsync(TimeSpan.FromSeconds(10));
        var rest = await client.ReadToCloseAsync(TimeSpan.FromSeconds(10));
        Assert.Matches("(^|\r\n)0\r\n\r\n$", rest); // whole chunks, then the last one
        await stop.WaitAsync(TimeSpan.FromSeconds(10));
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(2), $"took {clock.Elapsed} of a 10 s grace");
    }

    [Fact]
    public async Task AnAnswerThatIsNoFeedFinishesDuringTheDrain()
    {
        await using var upstream = new FakeUpstream(async (connection, _) =>
        {
            await connection.ReadHeadAsync();
            await connection.WriteAsync(FeedHead);
            for (var seq = 0; seq < 5; seq++)
            {
                await connection.WriteAsync($"a\r\n{{\"seq\":{seq}}}\n\r\n");
                await Task.Delay(200);
            }

            await connection.WriteAsync("0\r\n\r\n");
        });
        await using var gateway = new Gateway([upstream.Uri]);
        using var client = await gateway.ConnectAsync();
        await client.SendAsync("GET /couch/db/_all_docs HTTP/1.1\r\nHost: gw\r\n\r\n");
        Assert.Equal(200, (await client.ReadHeadAsync()).Status);
        Assert.Equal("0000000A\r\n{\"seq\":0}\n\r\n", Encoding.ASCII.GetString(await client.ReadExactlyAsync(22))); // re-chunked by the gateway

        var stop = gateway.StopAsync(TimeSpan.FromSeconds(10));
        var rest = await client.ReadToCloseAsync(TimeSpan.FromSeconds(10));
        Assert.Contains("{\"seq\":4}", rest);
        Assert.EndsWith("\r\n0\r\n\r\n", rest);
        await stop.WaitAsync(TimeSpan.FromSeconds(10));
    }
}
