using System.Diagnostics.Metrics;

namespace Gatehouse.Wire;

/// <summary>
/// Instruments of the Wire layer under the meter "Gatehouse.Wire", so `dotnet-counters monitor
/// -n gatehouse --counters Gatehouse.Wire` shows connections and handshake outcomes live.
/// </summary>
public static class WireMetrics
{
    public const string MeterName = "Gatehouse.Wire";

    private static readonly Meter Meter = new(MeterName);

    internal static readonly UpDownCounter<long> OpenConnections =
        Meter.CreateUpDownCounter<long>("gatehouse.connections.open", description: "Connections accepted and not yet closed");

    internal static readonly Counter<long> Handshakes =
        Meter.CreateCounter<long>("gatehouse.handshakes", description: "TLS handshakes by result (ok, refused, timeout, failed) and refusal reason");

    internal static readonly Counter<long> ClosedAtAccept =
        Meter.CreateCounter<long>("gatehouse.connections.closed_at_accept", description: "Sockets closed at accept because a limit was reached");

    internal static readonly Counter<long> Revocations =
        Meter.CreateCounter<long>("gatehouse.revocations", description: "Live connections closed because a reload no longer trusts their key");

    /// <summary>Publishes <c>gatehouse.buffers.outstanding</c> (only when the server counts its pools: serve --count-buffers).</summary>
    internal static void ObserveBuffers(Func<IEnumerable<Measurement<long>>> observe) =>
        Meter.CreateObservableGauge("gatehouse.buffers.outstanding", observe, "{buffer}", "Pooled buffers rented and not yet returned, by kind (pipe_block, array); *_rented_total: rented so far");

    internal static void Handshake(string result, string reason = "") =>
        Handshakes.Add(1, new KeyValuePair<string, object?>("result", result), new KeyValuePair<string, object?>("reason", reason));
}
