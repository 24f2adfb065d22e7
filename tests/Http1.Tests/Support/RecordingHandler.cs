using System.Collections.Concurrent;
using System.Globalization;
using System.Text;

namespace Gatehouse.Http1.Tests.Support;

/// <summary>Reads the whole body and answers 200 with the body length as text; remembers what it served.</summary>
internal sealed class RecordingHandler : IRequestHandler
{
    public ConcurrentQueue<(Request Request, long BodyLength)> Served { get; } = new();

    public async ValueTask HandleAsync(HttpExchange exchange, CancellationToken stopping)
    {
        var buffer = new byte[16 * 1024];
        long total = 0;
        int read;
        while ((read = await exchange.Body.ReadAsync(buffer, stopping)) > 0)
        {
            total += read;
        }

        Served.Enqueue((exchange.Request, total));
        var text = Encoding.ASCII.GetBytes(total.ToString(CultureInfo.InvariantCulture));
        await exchange.Response.SendAsync(200, "text/plain", text, stopping);
    }
}
