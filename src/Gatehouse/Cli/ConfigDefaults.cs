using System.Diagnostics.CodeAnalysis;
using System.Reflection;
using System.Text.Json;
using Gatehouse.Config;

namespace Gatehouse.Cli;

/// <summary>
/// The defaults a config leaves unsaid, read from the types themselves (a fresh <see cref="GatewayLimits"/>,
/// <see cref="ListenConfig"/>, <see cref="ReloadConfig"/> and <see cref="RuntimeConfig"/>) so the printed values cannot drift from what serve uses.
/// Durations print in seconds, as the config's "limits" takes them.
/// </summary>
internal static class ConfigDefaults
{
    public static byte[] ToJson()
    {
        using var buffer = new MemoryStream();
        using (var json = new Utf8JsonWriter(buffer, new JsonWriterOptions { Indented = true }))
        {
            json.WriteStartObject();
            json.WritePropertyName("listen");
            json.WriteStartArray();
            WriteObject(json, new ListenConfig());
            json.WriteEndArray();
            json.WritePropertyName("limits");
            var limits = new GatewayLimits();
            json.WriteStartObject();
            WriteProperties(json, limits.Wire);
            WriteProperties(json, limits.Http1);
            WriteProperties(json, limits.Upstream);
            json.WriteEndObject();
            json.WritePropertyName("reload");
            WriteObject(json, new ReloadConfig());
            json.WritePropertyName("runtime");
            WriteObject(json, new RuntimeConfig());
            json.WriteEndObject();
        }

        return buffer.ToArray();
    }

    private static void WriteObject<[DynamicallyAccessedMembers(DynamicallyAccessedMemberTypes.PublicProperties)] T>(Utf8JsonWriter json, T value)
        where T : notnull
    {
        json.WriteStartObject();
        WriteProperties(json, value);
        json.WriteEndObject();
    }

    private static void WriteProperties<[DynamicallyAccessedMembers(DynamicallyAccessedMemberTypes.PublicProperties)] T>(Utf8JsonWriter json, T value)
        where T : notnull
    {
        foreach (var property in typeof(T).GetProperties(BindingFlags.Public | BindingFlags.Instance))
        {
            var name = JsonNamingPolicy.CamelCase.ConvertName(property.Name);
            switch (property.GetValue(value))
            {
                case TimeSpan span:
                    json.WriteNumber(name, span.TotalSeconds);
                    break;
                case int number:
                    json.WriteNumber(name, number);
                    break;
                case long number:
                    json.WriteNumber(name, number);
                    break;
                case double number:
                    json.WriteNumber(name, number);
                    break;
                case bool flag:
                    json.WriteBoolean(name, flag);
                    break;
                case string text:
                    json.WriteString(name, text);
                    break;
                case var other:
                    // A new kind of setting must be taught here rather than printed wrong.
                    throw new InvalidOperationException($"{typeof(T).Name}.{property.Name}: cannot print a {other?.GetType().Name ?? "null"} default");
            }
        }
    }
}
