using System.Buffers;
using System.Globalization;
using System.Text.Json;
using Microsoft.Extensions.Logging;

namespace Gatehouse.Logging;

/// <summary>
/// Writes each entry as one JSON object on a line, in the shape of the runtime's JSON console
/// formatter (Timestamp, EventId, LogLevel, Category, Message, Exception, State), so what reads
/// Gatehouse's logs reads them as before. The line is made on the logging thread into a buffer of
/// that thread's, straight in UTF-8, and handed to the <see cref="LogLineWriter"/>.
/// </summary>
internal sealed class JsonLineLogger(string category, LogLineWriter writer, LogLevel minimum) : ILogger
{
    [ThreadStatic]
    private static LineBuffer? t_line;

    private readonly JsonEncodedText _category = JsonEncodedText.Encode(category);

    public IDisposable? BeginScope<TState>(TState state)
        where TState : notnull => null; // scopes are not written (IncludeScopes was off)

    public bool IsEnabled(LogLevel logLevel) => logLevel != LogLevel.None && logLevel >= minimum;

    public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
    {
        if (IsEnabled(logLevel) && MakeLine(logLevel, eventId, state, exception, formatter) is { } line)
        {
            writer.Append(line.Finish(), urgent: logLevel >= LogLevel.Warning);
        }
    }

    /// <summary>The line <see cref="Log"/> would write, as bytes (newline included), whatever the level: for a line the writer itself adds.</summary>
    public byte[] Render<TState>(LogLevel logLevel, EventId eventId, TState state, Func<TState, Exception?, string> formatter) =>
        MakeLine(logLevel, eventId, state, null, formatter) is { } line ? line.Finish().ToArray() : [];

    /// <summary>Makes the whole line but its newline, or nothing when there is neither message nor exception.</summary>
    private LineBuffer? MakeLine<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
    {
        if (state is IJsonLineState own)
        {
            // A state that writes itself (the access line): no message string, nothing boxed.
            var ownLine = StartLine(logLevel, eventId);
            var ownJson = ownLine.Json;
            own.WriteMessage(ownJson);
            WriteException(ownJson, exception);
            ownJson.WriteStartObject(JsonLineNames.State);
            own.WriteProperties(ownJson);
            ownJson.WriteEndObject();
            ownJson.WriteEndObject();
            return ownLine;
        }

        var message = formatter(state, exception);
        if (message is null && exception is null)
        {
            return null;
        }

        var line = StartLine(logLevel, eventId);
        var json = line.Json;
        json.WriteString(JsonLineNames.Message, message);
        WriteException(json, exception);
        if (state is IReadOnlyList<KeyValuePair<string, object?>> properties)
        {
            json.WriteStartObject(JsonLineNames.State);
            for (var i = 0; i < properties.Count; i++)
            {
                WriteProperty(json, properties[i]);
            }

            json.WriteEndObject();
        }
        else if (state is IEnumerable<KeyValuePair<string, object?>> others)
        {
            json.WriteStartObject(JsonLineNames.State);
            foreach (var property in others)
            {
                WriteProperty(json, property);
            }

            json.WriteEndObject();
        }

        json.WriteEndObject();
        return line;
    }

    /// <summary>
    /// Begins a line with the properties every line has before its message, in this thread's buffer,
    /// or in a new one when a value's ToString logged in the middle of a line.
    /// </summary>
    private LineBuffer StartLine(LogLevel logLevel, EventId eventId)
    {
        var line = t_line ??= new LineBuffer();
        if (line.InUse)
        {
            line = new LineBuffer();
        }

        line.Start();
        var json = line.Json;
        json.WriteStartObject();
        Span<char> timestamp = stackalloc char[24];
        DateTime.UtcNow.TryFormat(timestamp, out var written, "yyyy-MM-ddTHH:mm:ss.fffZ", CultureInfo.InvariantCulture);
        json.WriteString(JsonLineNames.Timestamp, timestamp[..written]);
        json.WriteNumber(JsonLineNames.EventId, eventId.Id);
        json.WriteString(JsonLineNames.LogLevel, JsonLineNames.Level(logLevel));
        json.WriteString(JsonLineNames.Category, _category);
        return line;
    }

    /// <summary>The exception on the same line: its newlines become spaces, as the runtime's formatter does.</summary>
    private static void WriteException(Utf8JsonWriter json, Exception? exception)
    {
        if (exception is not null)
        {
            json.WriteString(JsonLineNames.Exception, exception.ToString().Replace(Environment.NewLine, " ", StringComparison.Ordinal));
        }
    }

    /// <summary>Numbers and booleans as JSON numbers and booleans, null as null, anything else (NaN too) as its invariant text, as the runtime's formatter does.</summary>
    private static void WriteProperty(Utf8JsonWriter json, KeyValuePair<string, object?> property)
    {
        var key = property.Key;
        switch (property.Value)
        {
            case null:
                json.WriteNull(key);
                break;
            case string text:
                json.WriteString(key, text);
                break;
            case bool flag:
                json.WriteBoolean(key, flag);
                break;
            case int or long or byte or sbyte or short or ushort or uint:
                json.WriteNumber(key, Convert.ToInt64(property.Value, CultureInfo.InvariantCulture));
                break;
            case double number when double.IsFinite(number):
                json.WriteNumber(key, number);
                break;
            case float number when float.IsFinite(number):
                json.WriteNumber(key, number);
                break;
            case ulong number:
                json.WriteNumber(key, number);
                break;
            case decimal number:
                json.WriteNumber(key, number);
                break;
            case char character:
                json.WriteString(key, [character]);
                break;
            default:
                json.WriteString(key, Convert.ToString(property.Value, CultureInfo.InvariantCulture));
                break;
        }
    }

    /// <summary>One thread's line: a growing buffer and the JSON writer over it, both reused.</summary>
    private sealed class LineBuffer
    {
        private readonly ArrayBufferWriter<byte> _bytes = new(1024);

        public LineBuffer() => Json = new Utf8JsonWriter(_bytes);

        public Utf8JsonWriter Json { get; }

        /// <summary>Between <see cref="Start"/> and <see cref="Finish"/>.</summary>
        public bool InUse { get; private set; }

        public void Start()
        {
            InUse = true;
            _bytes.ResetWrittenCount();
            Json.Reset(_bytes);
        }

        /// <summary>The finished line with its newline; valid until the next <see cref="Start"/>.</summary>
        public ReadOnlySpan<byte> Finish()
        {
            Json.Flush();
            _bytes.GetSpan(1)[0] = (byte)'\n';
            _bytes.Advance(1);
            InUse = false;
            return _bytes.WrittenSpan;
        }
    }
}
