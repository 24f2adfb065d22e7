using System.Diagnostics.Metrics;

namespace Gatehouse.Http1;

/// <summary>Instruments of the HTTP layer under the meter "Gatehouse.Http" (requests by status class, bytes, refusals).</summary>
public static class HttpMetrics
{
    public const string MeterName = "Gatehouse.Http";

    private static readonly Meter Meter = new(MeterName);
    private static readonly KeyValuePair<string, object?>[] StatusTags =
        [new("status_class", "1xx"), new("status_class", "2xx"), new("status_class", "3xx"), new("status_class", "4xx"), new("status_class", "5xx"), new("status_class", "other")];

    // Counted in place and reported when the metrics are read: a counter's Add per request went
    // through the meter's listener and a locked series lookup, three times per request (issue 22).
    private static readonly long[] AnsweredByClass = new long[StatusTags.Length];
    private static long _bytesIn;
    private static long _bytesOut;

    internal static readonly ObservableCounter<long> Requests =
        Meter.CreateObservableCounter("gatehouse.requests", ObserveRequests, description: "Requests answered, by status class");

    internal static readonly ObservableCounter<long> BytesIn =
        Meter.CreateObservableCounter("gatehouse.request.body.bytes", () => Volatile.Read(ref _bytesIn), unit: "By", description: "Request body bytes read by handlers");

    internal static readonly ObservableCounter<long> BytesOut =
        Meter.CreateObservableCounter("gatehouse.response.body.bytes", () => Volatile.Read(ref _bytesOut), unit: "By", description: "Response body bytes written");

    internal static readonly Counter<long> SendFileBytes =
        Meter.CreateCounter<long>("gatehouse.response.sendfile.bytes", unit: "By", description: "Response body bytes sent zero-copy (sendfile) on plain connections; also counted in gatehouse.response.body.bytes");

    internal static readonly Counter<long> Refusals =
        Meter.CreateCounter<long>("gatehouse.requests.refused", description: "Malformed requests refused by the parser, by reason");

    /// <summary>Requests answered by this process so far, over every status class.</summary>
    public static long RequestsAnswered
    {
        get
        {
            long total = 0;
            for (var i = 0; i < AnsweredByClass.Length; i++)
            {
                total += Volatile.Read(ref AnsweredByClass[i]);
            }

            return total;
        }
    }

    internal static void Answered(int status, long bytesIn, long bytesOut)
    {
        var index = (status / 100) - 1;
        Interlocked.Increment(ref AnsweredByClass[(uint)index < (uint)(StatusTags.Length - 1) ? index : StatusTags.Length - 1]);
        if (bytesIn > 0)
        {
            Interlocked.Add(ref _bytesIn, bytesIn);
        }

        if (bytesOut > 0)
        {
            Interlocked.Add(ref _bytesOut, bytesOut);
        }
    }

    private static List<Measurement<long>> ObserveRequests()
    {
        var measurements = new List<Measurement<long>>(StatusTags.Length);
        for (var i = 0; i < StatusTags.Length; i++)
        {
            var count = Volatile.Read(ref AnsweredByClass[i]);
            if (count > 0)
            {
                measurements.Add(new(count, StatusTags[i]));
            }
        }

        return measurements;
    }
}
