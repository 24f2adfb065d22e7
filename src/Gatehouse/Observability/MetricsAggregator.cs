using System.Collections.Concurrent;
using System.Diagnostics.Metrics;

namespace Gatehouse.Observability;

/// <summary>
/// Keeps running totals of every instrument on the "Gatehouse.*" meters and the runtime's own
/// "System.Runtime" meter (GC heap, JIT, thread pool: issue 18 item 6 tells managed from native
/// growth with them), per tag set, so the metrics endpoint can answer a scrape without an exporter
/// package. One per process: the meters are static, so a second listener would only count the same
/// measurements twice.
/// </summary>
internal sealed class MetricsAggregator : IDisposable
{
    /// <summary>The runtime's built-in meter (.NET 9+): dotnet.gc.*, dotnet.jit.*, dotnet.thread_pool.*, dotnet.process.*.</summary>
    public const string RuntimeMeterName = "System.Runtime";

    private static readonly Lazy<MetricsAggregator> LazyShared = new(() => new MetricsAggregator("Gatehouse.", RuntimeMeterName));

    private readonly MeterListener _listener = new();
    private readonly string _meterPrefix;
    private readonly string? _extraMeter;
    private readonly ConcurrentDictionary<Instrument, InstrumentTotals> _instruments = new();

    /// <param name="meterPrefix">Meters whose name starts with this are aggregated.</param>
    /// <param name="extraMeter">One more meter aggregated by its exact name, or null.</param>
    internal MetricsAggregator(string meterPrefix, string? extraMeter = null)
    {
        _meterPrefix = meterPrefix;
        _extraMeter = extraMeter;
        _listener.InstrumentPublished = (instrument, listener) =>
        {
            var meter = instrument.Meter.Name;
            if (meter.StartsWith(_meterPrefix, StringComparison.Ordinal) || string.Equals(meter, _extraMeter, StringComparison.Ordinal))
            {
                _instruments.TryAdd(instrument, new InstrumentTotals(instrument));
                listener.EnableMeasurementEvents(instrument);
            }
        };
        _listener.MeasurementsCompleted = (instrument, _) => _instruments.TryRemove(instrument, out InstrumentTotals? _);
        _listener.SetMeasurementEventCallback<long>((instrument, value, tags, _) => Record(instrument, value, tags));
        _listener.SetMeasurementEventCallback<int>((instrument, value, tags, _) => Record(instrument, value, tags));
        _listener.SetMeasurementEventCallback<double>((instrument, value, tags, _) => Record(instrument, value, tags));
        _listener.Start();
    }

    /// <summary>Started by the first gateway built in this process, before it takes any traffic.</summary>
    public static MetricsAggregator Shared => LazyShared.Value;

    /// <summary>A consistent-enough copy for one scrape; observable instruments are asked for their value now.</summary>
    public IReadOnlyList<InstrumentSnapshot> Snapshot()
    {
        _listener.RecordObservableInstruments();
        return [.. _instruments.Values.Select(totals => totals.Snapshot())];
    }

    public void Dispose() => _listener.Dispose();

    private void Record(Instrument instrument, double value, ReadOnlySpan<KeyValuePair<string, object?>> tags)
    {
        if (_instruments.TryGetValue(instrument, out var totals))
        {
            totals.Add(value, tags);
        }
    }
}
