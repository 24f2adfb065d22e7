using System.Collections.Concurrent;
using System.Globalization;
using System.Text;
using Microsoft.Extensions.Logging;

namespace Gatehouse.Logging;

/// <summary>JSON log lines on one stream (stderr), written in batches by one <see cref="LogLineWriter"/>.</summary>
internal sealed class JsonLineLoggerProvider : ILoggerProvider
{
    private readonly LogLevel _minimum;
    private readonly LogLineWriter _writer;
    private readonly ConcurrentDictionary<string, JsonLineLogger> _loggers = new(StringComparer.Ordinal);

    public JsonLineLoggerProvider(Stream sink, LogLevel minimum)
    {
        _minimum = minimum;
        _writer = new LogLineWriter(sink, DroppedLine);
    }

    public ILogger CreateLogger(string categoryName) =>
        _loggers.GetOrAdd(categoryName, name => new JsonLineLogger(name, _writer, _minimum));

    /// <summary>Writes what is left, then stops.</summary>
    public void Dispose() => _writer.Dispose();

    /// <summary>The warning written once the sink drains again, in the same JSON shape as every other line.</summary>
    private static byte[] DroppedLine(long dropped)
    {
        var timestamp = DateTime.UtcNow.ToString("yyyy-MM-ddTHH:mm:ss.fffZ", CultureInfo.InvariantCulture);
        var message = $"{dropped} log lines dropped: stderr was not read fast enough";
        return Encoding.UTF8.GetBytes(
            "{\"Timestamp\":\"" + timestamp + "\",\"EventId\":0,\"LogLevel\":\"Warning\",\"Category\":\"Gatehouse.Logging\",\"Message\":\"" + message
            + "\",\"State\":{\"Dropped\":" + dropped.ToString(CultureInfo.InvariantCulture) + "}}\n");
    }
}
