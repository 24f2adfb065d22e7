using System.Diagnostics.Metrics;

namespace Gatehouse.Http1;

/// <summary>Instruments of the HTTP layer under the meter "Gatehouse.Http" (requests by status class, bytes, refusals).</summary>
public static class HttpMetrics
{
    public const string MeterName = "Gatehouse.Http";

    private static readonly Meter Meter = new(MeterName);
    private static readonly string[] StatusClasses = ["1xx", "2xx", "3xx", "4xx", "5xx"];

    internal static readonly Counter<long> Requests =
        Meter.CreateCounter<long>("gatehouse.requests", description: "Requests answered, by status class");

    internal static readonly Counter<long> BytesIn =
        Meter.CreateCounter<long>("gatehouse.request.body.bytes", unit: "By", description: "Request body bytes read by handlers");

    internal static readonly Counter<long> BytesOut =
        Meter.CreateCounter<long>("gatehouse.response.body.bytes", unit: "By", description: "Response body bytes written");

    internal static readonly Counter<long> SendFileBytes =
        Meter.CreateCounter<long>("gatehouse.response.sendfile.bytes", unit: "By", description: "Response body bytes sent zero-copy (sendfile) on plain connections; also counted in gatehouse.response.body.bytes");

    internal static readonly Counter<long> Refusals =
        Meter.CreateCounter<long>("gatehouse.requests.refused", description: "Malformed requests refused by the parser, by reason");

    internal static void Answered(int status, long bytesIn, long bytesOut)
    {
        var index = (status / 100) - 1;
        Requests.Add(1, new KeyValuePair<string, object?>("status_class", (uint)index < (uint)StatusClasses.Length ? StatusClasses[index] : "other"));
        if (bytesIn > 0)
        {
            BytesIn.Add(bytesIn);
        }

        if (bytesOut > 0)
        {
            BytesOut.Add(bytesOut);
        }
    }
}
