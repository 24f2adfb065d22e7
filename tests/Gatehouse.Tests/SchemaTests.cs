using System.Collections;
using System.Reflection;
using System.Text.Json;
using System.Text.Json.Serialization;
using Gatehouse.Config;

namespace Gatehouse.Tests;

/// <summary>
/// gatehouse.schema.json is written by hand for editors; these tests walk the config classes and
/// each layer's limits (<see cref="GatewayLimits"/>) by reflection so a field added in code but not in the schema (or the other
/// way round, or a changed default) fails here instead of drifting silently.
/// </summary>
public sealed class SchemaTests
{
    private static readonly Lazy<JsonElement> Schema = new(() =>
    {
        using var document = JsonDocument.Parse(File.ReadAllText(SchemaPath));
        return document.RootElement.Clone();
    });

    public static string SchemaPath => Path.Combine(PouchDbServer.RepositoryRoot, "gatehouse.schema.json");

    [Fact]
    public void SchemaIsDraft202012AndClosed()
    {
        Assert.Equal("https://json-schema.org/draft/2020-12/schema", Schema.Value.GetProperty("$schema").GetString());
        Assert.False(Schema.Value.GetProperty("additionalProperties").GetBoolean());
    }

    [Fact]
    public void EveryConfigPropertyIsInTheSchemaAndNothingElse()
    {
        var problems = new List<string>();
        Compare(typeof(GatehouseConfig), Schema.Value, "$", problems);
        Assert.True(problems.Count == 0, string.Join("\n", problems));
    }

    [Fact]
    public void EveryLimitIsInTheSchemaWithItsDefault()
    {
        var limitsNode = Resolve(Schema.Value.GetProperty("properties").GetProperty("limits"));
        var properties = limitsNode.GetProperty("properties");
        var problems = new List<string>();
        foreach (var (property, value) in LimitDefaults.All)
        {
            var name = JsonNamingPolicy.CamelCase.ConvertName(property.Name);
            if (!properties.TryGetProperty(name, out var node))
            {
                problems.Add($"limits.{name} is missing");
                continue;
            }

            var expected = value switch
            {
                TimeSpan span => span.TotalSeconds,
                int number => number,
                long number => (double)number,
                var other => throw new InvalidOperationException($"limits.{name}: unexpected type {other?.GetType()}"),
            };
            if (!node.TryGetProperty("default", out var given) || given.GetDouble() != expected)
            {
                problems.Add($"limits.{name}: schema default differs from the code ({expected})");
            }
        }

        var names = LimitDefaults.All.Select(l => JsonNamingPolicy.CamelCase.ConvertName(l.Property.Name)).ToHashSet();
        problems.AddRange(properties.EnumerateObject().Where(p => !names.Contains(p.Name)).Select(p => $"limits.{p.Name} is in the schema but not in the limit types"));
        Assert.True(problems.Count == 0, string.Join("\n", problems));
    }

    [Theory]
    [InlineData("CertificateModes", "$defs.listen.properties.clientCertificate")]
    [InlineData("CouchGrants", "$defs.rule.properties.couchdb.properties.allow.items")]
    [InlineData("FileGrants", "$defs.rule.properties.files.items")]
    public void SchemaEnumsMatchWhatTheLoaderAccepts(string loaderField, string schemaPath)
    {
        var accepted = (string[])typeof(ConfigValidator).GetField(loaderField, BindingFlags.NonPublic | BindingFlags.Static)!.GetValue(null)!;
        var node = Schema.Value;
        foreach (var step in schemaPath.Split('.'))
        {
            node = node.GetProperty(step);
        }

        var listed = node.GetProperty("enum").EnumerateArray().Select(e => e.GetString()).Order();
        Assert.Equal(accepted.Order(), listed);
    }

    [Fact]
    public void SchemaRouteKindsAreTheRegisteredKinds()
    {
        var listed = Schema.Value.GetProperty("$defs").GetProperty("route").GetProperty("properties").GetProperty("kind")
            .GetProperty("enum").EnumerateArray().Select(e => e.GetString()).Order();
        Assert.Equal(RouteKindNames.ConfigNames.Order(), listed);
    }

    [Fact]
    public void ConfigMayNameItsSchema()
    {
        using var dir = new TempDirectory();
        var config = ConfigLoader.Parse(
            """{ "$schema": "../gatehouse.schema.json", "listen": [ { "address": "127.0.0.1", "tls": false, "local": true } ] }""",
            dir.File("gatehouse.json"));
        Assert.Equal("../gatehouse.schema.json", config.Schema);
    }

    /// <summary>Walks one config class against its schema node, property by property.</summary>
    private static void Compare(Type type, JsonElement node, string path, List<string> problems)
    {
        node = Resolve(node);
        if (!node.TryGetProperty("properties", out var schemaProperties))
        {
            problems.Add($"{path}: the schema has no properties for {type.Name}");
            return;
        }

        var seen = new HashSet<string>();
        foreach (var property in type.GetProperties(BindingFlags.Public | BindingFlags.Instance).Where(p => p.GetCustomAttribute<JsonIgnoreAttribute>() is null))
        {
            var name = property.GetCustomAttribute<JsonPropertyNameAttribute>()?.Name ?? JsonNamingPolicy.CamelCase.ConvertName(property.Name);
            seen.Add(name);
            if (!schemaProperties.TryGetProperty(name, out var child))
            {
                problems.Add($"{path}.{name} ({type.Name}.{property.Name}) is missing from the schema");
                continue;
            }

            // Limits is a dictionary of overrides; its names come from the limit types (tested above).
            if (property.PropertyType == typeof(Dictionary<string, JsonElement>))
            {
                continue;
            }

            var element = ElementType(property.PropertyType);
            if (element is not null && IsConfigClass(element))
            {
                var items = Resolve(child).GetProperty("items");
                Compare(element, items, $"{path}.{name}[]", problems);
            }
            else if (IsConfigClass(property.PropertyType))
            {
                Compare(property.PropertyType, child, $"{path}.{name}", problems);
            }
        }

        foreach (var extra in schemaProperties.EnumerateObject().Where(p => !seen.Contains(p.Name)))
        {
            problems.Add($"{path}.{extra.Name} is in the schema but not in {type.Name}");
        }
    }

    private static bool IsConfigClass(Type type) => type.IsClass && type.Namespace == typeof(GatehouseConfig).Namespace;

    private static Type? ElementType(Type type) =>
        type != typeof(string) && typeof(IEnumerable).IsAssignableFrom(type) && type.IsGenericType ? type.GetGenericArguments()[0] : null;

    /// <summary>Follows a local "$ref": "#/$defs/NAME".</summary>
    private static JsonElement Resolve(JsonElement node)
    {
        while (node.TryGetProperty("$ref", out var reference))
        {
            var name = reference.GetString()!["#/$defs/".Length..];
            node = Schema.Value.GetProperty("$defs").GetProperty(name);
        }

        return node;
    }
}
