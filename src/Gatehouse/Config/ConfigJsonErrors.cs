using System.Globalization;
using System.Text.Json;
using System.Text.Json.Serialization;
using System.Text.Json.Serialization.Metadata;
using System.Text.RegularExpressions;

namespace Gatehouse.Config;

/// <summary>
/// Turns System.Text.Json's messages about a config file into what a person can act on (issue 19
/// item 6): an unknown field is named with the fields that are allowed there (and the nearest one),
/// a wrong type says what the field takes, and positions are 1-based lines and columns as editors
/// count them — never .NET type names.
/// </summary>
internal static partial class ConfigJsonErrors
{
    public static string Explain(JsonException ex, JsonTypeInfo root)
    {
        ArgumentNullException.ThrowIfNull(ex);
        ArgumentNullException.ThrowIfNull(root);
        var path = ex.Path ?? "$";
        var where = ex.LineNumber is { } line
            ? string.Create(CultureInfo.InvariantCulture, $" (line {line + 1}, column {(ex.BytePositionInLine ?? 0) + 1})")
            : string.Empty;

        if (UnknownMember().Match(ex.Message) is { Success: true } unknown)
        {
            var name = unknown.Groups["name"].Value;
            var allowed = FieldsAt(root, path);
            if (allowed.Count == 0)
            {
                return $"{path}: unknown field \"{name}\"{where}";
            }

            var nearest = allowed.MinBy(known => Distance(known, name));
            var hint = nearest is not null && Distance(nearest, name) <= Math.Max(2, name.Length / 3) ? $"did you mean \"{nearest}\"? " : string.Empty;
            return $"{path}: unknown field \"{name}\"{where}; {hint}fields here: {string.Join(", ", allowed)}";
        }

        if (NotConvertible().Match(ex.Message) is { Success: true } convert)
        {
            return $"{path}: {Expected(convert.Groups["type"].Value)}{where}";
        }

        return $"{path}: not valid JSON here{where}: {FirstSentence(ex.Message)}";
    }

    /// <summary>The JSON names the object at <paramref name="path"/> (the unknown field's parent) accepts.</summary>
    private static List<string> FieldsAt(JsonTypeInfo root, string path)
    {
        var info = root;
        var steps = Steps().Matches(path).Select(m => m.Groups["name"].Success ? m.Groups["name"].Value : null).ToList();

        // The path ends at the unknown field itself: walk to its parent.
        for (var i = 0; i < steps.Count - 1; i++)
        {
            var step = steps[i];
            if (step is null)
            {
                info = ElementOf(info);
            }
            else if (info.Properties.FirstOrDefault(p => p.Name == step) is { } property)
            {
                info = info.Options.GetTypeInfo(property.PropertyType);
            }
            else
            {
                return [];
            }

            if (info is null)
            {
                return [];
            }
        }

        info = ElementOf(info) is { Kind: JsonTypeInfoKind.Object } element && info.Kind != JsonTypeInfoKind.Object ? element : info;
        return info?.Kind == JsonTypeInfoKind.Object
            ? [.. info.Properties.Where(p => p.AttributeProvider?.IsDefined(typeof(JsonIgnoreAttribute), inherit: false) != true).Select(p => p.Name)]
            : [];
    }

    private static JsonTypeInfo? ElementOf(JsonTypeInfo info) =>
        info.ElementType is { } element ? info.Options.GetTypeInfo(element) : null;

    private static string Expected(string type) => type switch
    {
        "System.Int32" or "System.Int64" or "System.Nullable`1[System.Int32]" or "System.Nullable`1[System.Int64]" => "must be a whole number",
        "System.Double" or "System.Nullable`1[System.Double]" => "must be a number",
        "System.Boolean" or "System.Nullable`1[System.Boolean]" => "must be true or false",
        "System.String" => "must be a string",
        _ when type.Contains("List`1", StringComparison.Ordinal) || type.EndsWith("[]", StringComparison.Ordinal) => "must be an array",
        _ when type.Contains("Dictionary`2", StringComparison.Ordinal) => "must be an object",
        _ when type.StartsWith("Gatehouse.", StringComparison.Ordinal) => "must be an object",
        _ => "has the wrong type",
    };

    private static string FirstSentence(string message)
    {
        var end = message.IndexOfAny(['\n', '.']);
        return end < 0 ? message : message[..end];
    }

    private static int Distance(string a, string b)
    {
        a = a.ToLowerInvariant();
        b = b.ToLowerInvariant();
        var previous = Enumerable.Range(0, b.Length + 1).ToArray();
        for (var i = 1; i <= a.Length; i++)
        {
            var current = new int[b.Length + 1];
            current[0] = i;
            for (var j = 1; j <= b.Length; j++)
            {
                current[j] = Math.Min(Math.Min(current[j - 1] + 1, previous[j] + 1), previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1));
            }

            previous = current;
        }

        return previous[b.Length];
    }

    [GeneratedRegex(@"The JSON property '(?<name>[^']*)' could not be mapped")]
    private static partial Regex UnknownMember();

    [GeneratedRegex(@"could not be converted to (?<type>[^ .]+(\.[^ .]+)*)\.")]
    private static partial Regex NotConvertible();

    [GeneratedRegex(@"\.(?<name>[A-Za-z_$][A-Za-z0-9_$]*)|\['(?<name>[^']*)'\]|\[\d+\]")]
    private static partial Regex Steps();
}
