using System.Text.Json;
using Microsoft.Extensions.Logging;

namespace Gatehouse.Logging;

/// <summary>The property names and level names of a JSON log line, encoded once.</summary>
internal static class JsonLineNames
{
    public static readonly JsonEncodedText Timestamp = JsonEncodedText.Encode("Timestamp");
    public static readonly JsonEncodedText EventId = JsonEncodedText.Encode("EventId");
    public static readonly JsonEncodedText LogLevel = JsonEncodedText.Encode("LogLevel");
    public static readonly JsonEncodedText Category = JsonEncodedText.Encode("Category");
    public static readonly JsonEncodedText Message = JsonEncodedText.Encode("Message");
    public static readonly JsonEncodedText Exception = JsonEncodedText.Encode("Exception");
    public static readonly JsonEncodedText State = JsonEncodedText.Encode("State");

    private static readonly JsonEncodedText[] Levels =
        [.. new[] { "Trace", "Debug", "Information", "Warning", "Error", "Critical" }.Select(name => JsonEncodedText.Encode(name))];

    public static JsonEncodedText Level(Microsoft.Extensions.Logging.LogLevel level) => Levels[(int)level];
}
