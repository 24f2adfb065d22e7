using System.Text.Json.Serialization;

namespace Gatehouse.Provenance;

/// <summary>Source-generated JSON for provenance records and the CouchDB answers around them.</summary>
[JsonSourceGenerationOptions(
    PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase,
    DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(ProvenanceRecord))]
[JsonSerializable(typeof(AllDocsPage))]
[JsonSerializable(typeof(DocRevision))]
[JsonSerializable(typeof(GrantsReport))]
internal sealed partial class ProvenanceJsonContext : JsonSerializerContext
{
    /// <summary>For <c>--json</c>: pins hold '+' and '/', printed as they are so they can be pasted (as ConfigJsonContext.Output does).</summary>
    public static ProvenanceJsonContext Output { get; } = new(new System.Text.Json.JsonSerializerOptions
    {
        PropertyNamingPolicy = System.Text.Json.JsonNamingPolicy.CamelCase,
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
        Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
        WriteIndented = true,
    });
}

/// <summary>The part of <c>GET /db/_all_docs?include_docs=true</c> we read.</summary>
internal sealed class AllDocsPage
{
    public List<AllDocsRow> Rows { get; set; } = [];
}

internal sealed class AllDocsRow
{
    public string Id { get; set; } = string.Empty;

    public ProvenanceRecord? Doc { get; set; }
}

/// <summary>Just the revision of a document, to delete it.</summary>
internal sealed class DocRevision
{
    [JsonPropertyName("_rev")]
    public string? Rev { get; set; }
}
