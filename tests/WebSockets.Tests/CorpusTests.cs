using System.Text.Json;
using Gatehouse.WebSockets.Tests.Support;
using Xunit.Abstractions;

namespace Gatehouse.WebSockets.Tests;

/// <summary>
/// Every vector of websocket.jsonl replayed as raw masked frames over TLS, after a valid handshake,
/// against the echo endpoint; the server's frames are read back and judged by the file's verdict:
/// ok = the events, then a clean close (1000, or a listed code) and the TCP close; fail = the events
/// (strict or non-strict) then a close with a listed code, or a TCP drop; either = one of those.
/// </summary>
[Collection(WsCollection.Name)]
public sealed class CorpusTests(WsServerFixture fixture, ITestOutputHelper output)
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(8);

    public static TheoryData<string> AllVectors() => [.. CorpusFile.Names(coreOnly: false)];

    [Theory]
    [MemberData(nameof(AllVectors))]
    public async Task ReplaysVector(string name)
    {
        var vector = CorpusFile.Get(name);
        var outcome = await ReplayAsync(vector);
        var expect = vector.GetProperty("expect").GetString();
        var events = Events(vector.GetProperty("events"));
        var codes = vector.TryGetProperty("close_codes", out var c) ? c.EnumerateArray().Select(e => e.GetInt32()).ToArray() : [1000];
        var nonStrict = vector.TryGetProperty("non_strict_events", out var n) ? Events(n) : null;

        var okVerdict = outcome.Events.SequenceEqual(events) && outcome.CloseCode is { } code && codes.Contains(code) && outcome.TcpClosed;
        var failVerdict = (outcome.Events.SequenceEqual(events) || (nonStrict is not null && outcome.Events.SequenceEqual(nonStrict)))
            && (outcome.CloseCode is { } failCode ? codes.Contains(failCode) : outcome.TcpClosed);
        var verdict = expect switch
        {
            "ok" => okVerdict,
            "fail" => failVerdict,
            "either" => okVerdict || failVerdict,
            _ => outcome.TcpClosed, // informational: any answer, as long as the stream ends
        };

        output.WriteLine($"VERDICT {name} {expect} core={vector.GetProperty("core").GetBoolean()} -> {outcome}");
        Assert.True(verdict, $"{name} ({expect}, codes [{string.Join(',', codes)}]): got {outcome}; expected events [{string.Join("; ", events)}]");
    }

    private static List<string> Events(JsonElement array) =>
        [.. array.EnumerateArray().Select(e => string.Join(' ', e.EnumerateArray().Select(p => p.GetString())))];

    private async Task<Outcome> ReplayAsync(JsonElement vector)
    {
        await using var client = await RawWsClient.ConnectAsync(fixture.V4, fixture.Pki.Client, fixture.Pki.Identity.Pin);
        await client.SendAsync(RawWsClient.UpgradeRequest("/corpus"));
        var head = await client.ReadHeadAsync(Deadline);
        Assert.StartsWith("HTTP/1.1 101 ", head, StringComparison.Ordinal);

        var frames = Convert.FromHexString(vector.GetProperty("frames_hex").GetString()!);
        var chop = vector.TryGetProperty("chop", out var chopText) ? chopText.GetString()! : string.Empty;
        try
        {
            if (chop.StartsWith("one write per frame", StringComparison.Ordinal))
            {
                foreach (var frame in ClientFrames.Split(frames))
                {
                    await client.SendAsync(frame);
                }
            }
            else
            {
                await client.SendAsync(frames, chop.StartsWith("octet", StringComparison.Ordinal) ? 1 : chop.Contains("997", StringComparison.Ordinal) ? 997 : 0);
            }
        }
        catch (IOException)
        {
            // The server may fail the stream and drop the connection before all bytes are written.
        }

        return await ReadOutcomeAsync(client);
    }

    private static async Task<Outcome> ReadOutcomeAsync(RawWsClient client)
    {
        using var cts = new CancellationTokenSource(Deadline);
        var events = new List<string>();
        List<byte>? message = null;
        var messageType = string.Empty;
        while (true)
        {
            var frame = await client.ReadFrameAsync(cts.Token);
            switch (frame)
            {
                case null:
                    return new Outcome(events, null, TcpClosed: true);
                case { Opcode: 9 }:
                    continue; // our own keep-alive pings are not events
                case { Opcode: 10 }:
                    events.Add("pong " + Convert.ToHexString(frame.Payload).ToLowerInvariant());
                    continue;
                case { Opcode: 8 }:
                    return new Outcome(events, frame.CloseCode ?? 1005, await client.ServerClosesAsync(TimeSpan.FromSeconds(4)));
                case { Opcode: 1 or 2 }:
                    messageType = frame.Opcode == 1 ? "text" : "binary";
                    message = [.. frame.Payload];
                    break;
                default:
                    message!.AddRange(frame.Payload);
                    break;
            }

            if (frame.Fin)
            {
                events.Add($"message {messageType} {Convert.ToHexString([.. message!]).ToLowerInvariant()}");
                message = null;
            }
        }
    }

    private sealed record Outcome(List<string> Events, int? CloseCode, bool TcpClosed)
    {
        public override string ToString() =>
            $"events [{string.Join("; ", Events.Select(e => e.Length > 80 ? e[..80] + "…" : e))}], close {CloseCode?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "none"}, tcp closed {TcpClosed}";
    }
}
