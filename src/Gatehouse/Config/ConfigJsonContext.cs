using System.Text.Json;
using System.Text.Json.Serialization;

namespace Gatehouse.Config;

/// <summary>Source-generated JSON for the config, the stdin environment and the ready line (no reflection).</summary>
[JsonSourceGenerationOptions(
    PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase,
    ReadCommentHandling = JsonCommentHandling.Skip,
    AllowTrailingCommas = true,
    UnmappedMemberHandling = JsonUnmappedMemberHandling.Disallow,
    DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    WriteIndented = false)]
[JsonSerializable(typeof(GatehouseConfig))]
[JsonSerializable(typeof(StdinEnvironment))]
[JsonSerializable(typeof(ReadyLine))]
[JsonSerializable(typeof(WhoAmI))]
internal sealed partial class ConfigJsonContext : JsonSerializerContext
{
    /// <summary>
    /// For what we print (ready line, whoami): pins contain '+' and '/', which the default
    /// encoder escapes as \u002B; people copy these strings into curl, so print them as they are.
    /// </summary>
    public static ConfigJsonContext Output { get; } = new(new JsonSerializerOptions
    {
        PropertyNamingPolicy = JsonNamingPolicy.CamelCase,
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
        Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    });
}
