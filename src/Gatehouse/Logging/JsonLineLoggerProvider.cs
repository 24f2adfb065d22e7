using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;

namespace Gatehouse.Logging;

/// <summary>JSON log lines on one stream (stderr), written in batches by one <see cref="LogLineWriter"/>.</summary>
internal sealed class JsonLineLoggerProvider : ILoggerProvider
{
    private readonly LogLevel _minimum;
    private readonly LogLineWriter _writer;
    private readonly ConcurrentDictionary<string, JsonLineLogger> _loggers = new(StringComparer.Ordinal);
    private readonly JsonLineLogger _ownLogger;

    public JsonLineLoggerProvider(Stream sink, LogLevel minimum)
    {
        _minimum = minimum;
        _writer = new LogLineWriter(sink, DroppedLine);
        _ownLogger = new JsonLineLogger("Gatehouse.Logging", _writer, minimum);
    }

    public ILogger CreateLogger(string categoryName) =>
        _loggers.GetOrAdd(categoryName, name => new JsonLineLogger(name, _writer, _minimum));

    /// <summary>Writes what is left, then stops.</summary>
    public void Dispose() => _writer.Dispose();

    /// <summary>The warning written once the sink drains again, a line like every other (category <c>Gatehouse.Logging</c>).</summary>
    private byte[] DroppedLine(long dropped) =>
        _ownLogger.Render(
            LogLevel.Warning, new EventId(0), new KeyValuePair<string, object?>[] { new("Dropped", dropped) },
            (_, _) => $"{dropped} log lines dropped: stderr was not read fast enough");
}
