using System.Globalization;
using System.Text;

namespace Gatehouse.Observability;

/// <summary>
/// Renders instrument totals in the Prometheus text exposition format 0.0.4: dots become
/// underscores, counters get <c>_total</c>, histograms become summaries without quantiles
/// (<c>_sum</c> and <c>_count</c>). Sorted, so two scrapes of the same state are byte-equal.
/// </summary>
internal static class PrometheusText
{
    public const string ContentType = "text/plain; version=0.0.4; charset=utf-8";

    public static string Render(IEnumerable<InstrumentSnapshot> instruments)
    {
        var text = new StringBuilder();
        foreach (var instrument in instruments.OrderBy(i => i.Name, StringComparer.Ordinal))
        {
            var name = MetricName(instrument.Name);
            var (family, type) = instrument.Kind switch
            {
                SeriesKind.Counter => (name.EndsWith("_total", StringComparison.Ordinal) ? name : name + "_total", "counter"),
                SeriesKind.Histogram => (name, "summary"),
                _ => (name, "gauge"),
            };
            if (!string.IsNullOrEmpty(instrument.Description))
            {
                text.Append("# HELP ").Append(family).Append(' ').Append(EscapeHelp(instrument.Description)).Append('\n');
            }

            text.Append("# TYPE ").Append(family).Append(' ').Append(type).Append('\n');
            foreach (var series in instrument.Series.OrderBy(s => Labels(s.Tags), StringComparer.Ordinal))
            {
                var labels = Labels(series.Tags);
                if (instrument.Kind == SeriesKind.Histogram)
                {
                    Sample(text, family + "_sum", labels, series.Sum);
                    Sample(text, family + "_count", labels, series.Count);
                }
                else
                {
                    Sample(text, family, labels, series.Sum);
                }
            }
        }

        return text.ToString();
    }

    /// <summary>Metric and label names allow [a-zA-Z_:][a-zA-Z0-9_:]*; anything else (dots first) becomes '_'.</summary>
    internal static string MetricName(string name)
    {
        var chars = name.ToCharArray();
        for (var i = 0; i < chars.Length; i++)
        {
            var c = chars[i];
            var ok = char.IsAsciiLetter(c) || c is '_' or ':' || (i > 0 && char.IsAsciiDigit(c));
            chars[i] = ok ? c : '_';
        }

        return chars.Length == 0 ? "_" : new string(chars);
    }

    private static string Labels(IReadOnlyList<KeyValuePair<string, string>> tags)
    {
        if (tags.Count == 0)
        {
            return string.Empty;
        }

        var text = new StringBuilder("{");
        for (var i = 0; i < tags.Count; i++)
        {
            if (i > 0)
            {
                text.Append(',');
            }

            // Label names may not contain ':' (that is for recording rules), unlike metric names.
            text.Append(MetricName(tags[i].Key).Replace(':', '_')).Append("=\"").Append(EscapeLabel(tags[i].Value)).Append('"');
        }

        return text.Append('}').ToString();
    }

    private static void Sample(StringBuilder text, string name, string labels, double value) =>
        text.Append(name).Append(labels).Append(' ').Append(FormatValue(value)).Append('\n');

    private static string FormatValue(double value) => value switch
    {
        double.PositiveInfinity => "+Inf",
        double.NegativeInfinity => "-Inf",
        double.NaN => "NaN",
        _ => value.ToString("R", CultureInfo.InvariantCulture),
    };

    private static string EscapeHelp(string help) => help.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("\n", "\\n", StringComparison.Ordinal);

    private static string EscapeLabel(string value) =>
        value.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("\"", "\\\"", StringComparison.Ordinal).Replace("\n", "\\n", StringComparison.Ordinal);
}
