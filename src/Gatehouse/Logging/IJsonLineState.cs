using System.Text.Json;

namespace Gatehouse.Logging;

/// <summary>
/// A log state that writes its own message and properties into a JSON line, typed and without
/// making the message string: the access line, written once per request, takes this way. Other
/// loggers read it as the usual list of properties.
/// </summary>
internal interface IJsonLineState
{
    /// <summary>Writes the "Message" property.</summary>
    void WriteMessage(Utf8JsonWriter json);

    /// <summary>Writes the properties, each as the runtime's formatter would, "{OriginalFormat}" last.</summary>
    void WriteProperties(Utf8JsonWriter json);
}
