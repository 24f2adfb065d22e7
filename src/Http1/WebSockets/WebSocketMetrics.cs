using System.Diagnostics;
using System.Diagnostics.Metrics;

namespace Gatehouse.Http1.WebSockets;

/// <summary>
/// Counters for WebSocket streams under the meter <c>Gatehouse.WebSockets</c>, for dotnet-counters or
/// an OpenTelemetry exporter. Every instrument carries <c>side</c> (server or client); byte and
/// message counters also carry <c>direction</c> (in or out). Bytes are message payload, not framing.
/// </summary>
public static class WebSocketMetrics
{
    public const string MeterName = "Gatehouse.WebSockets";

    private static readonly Meter Meter = new(MeterName);

    private static readonly UpDownCounter<long> OpenStreams =
        Meter.CreateUpDownCounter<long>("gatehouse.websocket.streams.open", "{stream}", "WebSocket streams open now");

    private static readonly Counter<long> Bytes =
        Meter.CreateCounter<long>("gatehouse.websocket.bytes", "By", "message payload bytes sent and received");

    private static readonly Counter<long> Messages =
        Meter.CreateCounter<long>("gatehouse.websocket.messages", "{message}", "complete messages sent and received");

    private static readonly Counter<long> KeepAliveFailures =
        Meter.CreateCounter<long>("gatehouse.websocket.keepalive.failures", "{stream}", "streams aborted because the peer's PONG did not come in time");

    private static readonly Counter<long> HeldWrites =
        Meter.CreateCounter<long>("gatehouse.websocket.writes.held", "{frame}", "server frames held to share a TLS record with the next ones instead of being sent alone");

    internal static void WriteHeld() => HeldWrites.Add(1);

    internal static void StreamOpened(string side) => OpenStreams.Add(1, Side(side));

    internal static void StreamClosed(string side) => OpenStreams.Add(-1, Side(side));

    internal static void Transferred(string side, string direction, int bytes, bool endOfMessage)
    {
        if (!Bytes.Enabled && !Messages.Enabled)
        {
            return;
        }

        var tags = new TagList { { "side", side }, { "direction", direction } };
        if (bytes > 0)
        {
            Bytes.Add(bytes, tags);
        }

        if (endOfMessage)
        {
            Messages.Add(1, tags);
        }
    }

    internal static void KeepAliveFailed(string side) => KeepAliveFailures.Add(1, Side(side));

    private static KeyValuePair<string, object?> Side(string side) => new("side", side);
}
