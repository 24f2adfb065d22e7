using System.Diagnostics.Metrics;
using System.Globalization;

namespace Gatehouse.Observability;

/// <summary>How a series is exposed: summed (counter), summed but may fall (gauge), or a count and sum (histogram).</summary>
internal enum SeriesKind
{
    Counter,
    Gauge,
    Histogram,
}

/// <summary>One tag set's value; for histograms also how many measurements made up <see cref="Sum"/>.</summary>
internal sealed record SeriesValue(IReadOnlyList<KeyValuePair<string, string>> Tags, double Sum, long Count);

internal sealed record InstrumentSnapshot(string Name, string? Description, string? Unit, SeriesKind Kind, IReadOnlyList<SeriesValue> Series);

/// <summary>The totals of one instrument, keyed by its tag set (sorted, so tag order does not split a series).</summary>
internal sealed class InstrumentTotals
{
    private readonly Instrument _instrument;
    // A handful of tag sets per instrument: a linear match allocates nothing on the hot path,
    // where building a string key per measurement cost several allocations per request.
    private readonly List<Series> _series = [];
    private readonly SeriesKind _kind;

    /// <summary>Observable instruments report their current value, not a delta: the last one wins.</summary>
    private readonly bool _absolute;

    public InstrumentTotals(Instrument instrument)
    {
        _instrument = instrument;
        var type = instrument.GetType();
        var generic = type.IsGenericType ? type.GetGenericTypeDefinition() : type;
        _kind = generic == typeof(Counter<>) || generic == typeof(ObservableCounter<>) ? SeriesKind.Counter
            : generic == typeof(Histogram<>) ? SeriesKind.Histogram
            : SeriesKind.Gauge;
        _absolute = instrument.IsObservable || generic == typeof(Gauge<>);
    }

    public void Add(double value, ReadOnlySpan<KeyValuePair<string, object?>> tags)
    {
        lock (_series)
        {
            var series = Find(tags) ?? Create(tags);
            series.Sum = _absolute ? value : series.Sum + value;
            series.Count++;
        }
    }

    public InstrumentSnapshot Snapshot()
    {
        List<SeriesValue> values;
        lock (_series)
        {
            values = [.. _series.Select(s => new SeriesValue(s.Tags, s.Sum, s.Count))];
        }

        return new InstrumentSnapshot(_instrument.Name, _instrument.Description, _instrument.Unit, _kind, values);
    }

    private Series? Find(ReadOnlySpan<KeyValuePair<string, object?>> tags)
    {
        foreach (var series in _series)
        {
            if (series.Matches(tags))
            {
                return series;
            }
        }

        return null;
    }

    private Series Create(ReadOnlySpan<KeyValuePair<string, object?>> tags)
    {
        var sorted = new KeyValuePair<string, string>[tags.Length];
        for (var i = 0; i < tags.Length; i++)
        {
            sorted[i] = new(tags[i].Key, Text(tags[i].Value));
        }

        Array.Sort(sorted, (a, b) => string.CompareOrdinal(a.Key, b.Key));
        var series = new Series(sorted);
        _series.Add(series);
        return series;
    }

    private static string Text(object? value) => value as string ?? Convert.ToString(value, CultureInfo.InvariantCulture) ?? string.Empty;

    private sealed class Series(KeyValuePair<string, string>[] tags)
    {
        /// <summary>Same tag set, in any order (tag order must not split a series).</summary>
        public bool Matches(ReadOnlySpan<KeyValuePair<string, object?>> tags)
        {
            if (tags.Length != Tags.Length)
            {
                return false;
            }

            foreach (var tag in tags)
            {
                var found = false;
                foreach (var own in Tags)
                {
                    if (string.Equals(own.Key, tag.Key, StringComparison.Ordinal))
                    {
                        found = string.Equals(own.Value, Text(tag.Value), StringComparison.Ordinal);
                        break;
                    }
                }

                if (!found)
                {
                    return false;
                }
            }

            return true;
        }

        public KeyValuePair<string, string>[] Tags { get; } = tags;

        public double Sum { get; set; }

        public long Count { get; set; }
    }
}
