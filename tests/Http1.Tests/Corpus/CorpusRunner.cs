using System.Net;
using Gatehouse.Http1.Tests.Support;

namespace Gatehouse.Http1.Tests.Corpus;

/// <summary>What a vector must produce on a real connection.</summary>
internal enum Verdict
{
    Ok,
    Reject,
    Incomplete,

    /// <summary>Our own verdict for a head the client never finished: no answer, just the close.</summary>
    Close,
}

/// <summary>Drives one vector's raw bytes through a real socket and checks the answers against its expected sequence.</summary>
internal static class CorpusRunner
{
    public static async Task RunAsync(IPEndPoint endpoint, byte[] raw, IReadOnlyList<Verdict> expected, string label)
    {
        await using var client = await RawHttpClient.ConnectPlainAsync(endpoint);
        await client.SendAsync(raw);
        if (expected.Count == 1 && expected[0] == Verdict.Incomplete)
        {
            // The server must wait for more: nothing may come back while the client still could send.
            Assert.True(await client.StaysSilentAsync(TimeSpan.FromMilliseconds(300)), $"{label}: the server answered an incomplete request");
            client.ShutdownSend();
            var late = await client.ReadUntilCloseAsync();
            Assert.DoesNotContain(late, r => r.Status == 200);
            return;
        }

        client.ShutdownSend();
        var head = raw.AsSpan().StartsWith("HEAD "u8);
        var statuses = (await client.ReadUntilCloseAsync(headRequests: head)).Where(r => r.Status >= 200).Select(r => r.Status).ToList();
        var oks = expected.TakeWhile(v => v == Verdict.Ok).Count();
        var shown = $"{label}: got [{string.Join(", ", statuses)}], expected [{string.Join(", ", expected)}]";
        Assert.True(client.Pending == 0, $"{shown}; {client.Pending} unparsed bytes before the close");
        if (expected is [Verdict.Close])
        {
            Assert.True(statuses.Count == 0, shown);
        }
        else if (oks == expected.Count)
        {
            Assert.True(statuses.Count == oks && statuses.All(s => s == 200), shown);
        }
        else
        {
            // The oks first, then one error answer, then the close (ReadUntilClose saw it).
            Assert.True(oks + 1 == expected.Count && expected[^1] == Verdict.Reject, "bad expectation " + shown);
            Assert.True(statuses.Count == oks + 1 && statuses.Take(oks).All(s => s == 200) && statuses[^1] >= 400, shown);
        }
    }

    public static Verdict Parse(string text) => text switch
    {
        "ok" => Verdict.Ok,
        "reject" => Verdict.Reject,
        "incomplete" => Verdict.Incomplete,
        "close" => Verdict.Close,
        _ => throw new InvalidDataException("unknown verdict " + text),
    };
}

/// <summary>One plain loopback server shared by every vector of a corpus class.</summary>
public sealed class PlainServerFixture : IAsyncLifetime
{
    private TestServer? _server;

    internal TestServer Server => _server ?? throw new InvalidOperationException("not started");

    public Task InitializeAsync()
    {
        _server = TestServer.StartPlain();
        return Task.CompletedTask;
    }

    public async Task DisposeAsync()
    {
        if (_server is not null)
        {
            await _server.DisposeAsync();
        }
    }
}
