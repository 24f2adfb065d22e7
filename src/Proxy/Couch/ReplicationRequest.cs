using System.Text.Json;

namespace Gatehouse.Proxy;

/// <summary>
/// The body of <c>POST /_replicate</c> as the gateway judges it (issue 23 item 2): each end is a
/// database on this CouchDB (a bare name) or a peer link (<c>{"peer": NAME, "db": DB}</c>), never a
/// URL, so a key cannot point the server's replicator at a foreign host or carry a credential of its
/// own; every other field is on a closed list (<c>user_ctx</c>, <c>source_proxy</c>,
/// <c>worker_processes</c> and the rest are refused by name). The forwarded body is rebuilt from
/// what was judged, with the role's credential put in by <see cref="ReplicationBody"/>.
/// </summary>
public sealed class ReplicationRequest
{
    /// <summary>A replication body larger than this is refused (413): the fields it may carry are small.</summary>
    public const int MaxBodyBytes = 64 * 1024;

    private ReplicationRequest(ReplicationEnd source, ReplicationEnd target)
    {
        Source = source;
        Target = target;
    }

    public ReplicationEnd Source { get; }

    public ReplicationEnd Target { get; }

    public bool Continuous { get; private set; }

    public bool Cancel { get; private set; }

    public bool CreateTarget { get; private set; }

    /// <summary>The documents to replicate, when the caller named them; null replicates all.</summary>
    public IReadOnlyList<string>? DocIds { get; private set; }

    /// <summary><c>_doc_ids</c>, <c>_selector</c>, <c>_view</c> or a design filter <c>ddoc/name</c>; null for none.</summary>
    public string? Filter { get; private set; }

    /// <summary>Kept as sent and re-serialized: CouchDB reads these, the gateway only checks their shape.</summary>
    public JsonElement? Selector { get; private set; }

    public JsonElement? QueryParams { get; private set; }

    public JsonElement? SinceSeq { get; private set; }

    /// <summary>True when the filter runs code from a design document on the source (needs <c>query</c> there).</summary>
    public bool FilterRunsDesignCode => Filter is { } filter && (filter == "_view" || !filter.StartsWith('_'));

    /// <summary>Parses and checks the shape of <paramref name="json"/>; on failure <paramref name="error"/> says why (a 400).</summary>
    public static ReplicationRequest? Parse(ReadOnlySpan<byte> json, out string? error) => Parse(json, null, out error);

    /// <summary>
    /// The body of <c>PUT /_replicator/{id}</c>: the same fields, plus <c>_id</c> when it is
    /// <paramref name="documentId"/>; no <c>cancel</c> (deleting the document cancels it) and no
    /// <c>_rev</c> (a document is created once through the gateway, never edited).
    /// </summary>
    public static ReplicationRequest? ParseDocument(ReadOnlySpan<byte> json, string documentId, out string? error)
    {
        ArgumentNullException.ThrowIfNull(documentId);
        return Parse(json, documentId, out error);
    }

    private static ReplicationRequest? Parse(ReadOnlySpan<byte> json, string? documentId, out string? error)
    {
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(json.ToArray(), new JsonDocumentOptions { MaxDepth = 16 });
        }
        catch (JsonException)
        {
            error = "the replication body must be one JSON object";
            return null;
        }

        using (document)
        {
            return Read(document.RootElement, documentId, out error);
        }
    }

    private static ReplicationRequest? Read(JsonElement root, string? documentId, out string? error)
    {
        if (root.ValueKind != JsonValueKind.Object)
        {
            error = "the replication body must be one JSON object";
            return null;
        }

        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var property in root.EnumerateObject())
        {
            if (!seen.Add(property.Name))
            {
                error = $"field {property.Name} is given twice";
                return null;
            }
        }

        foreach (var name in seen)
        {
            if (documentId is not null && DocumentOnlyRefusals.TryGetValue(name, out var refusal))
            {
                error = refusal;
                return null;
            }

            if (documentId is not null && name == "_id")
            {
                if (root.GetProperty("_id").ValueKind != JsonValueKind.String || root.GetProperty("_id").GetString() != documentId)
                {
                    error = "_id must be the document id of the path";
                    return null;
                }

                continue;
            }

            if (!KnownFields.Contains(name))
            {
                error = $"field {name} is not accepted in a replication through the gateway";
                return null;
            }
        }

        if (!root.TryGetProperty("source", out var sourceJson) || !root.TryGetProperty("target", out var targetJson))
        {
            error = "a replication needs source and target";
            return null;
        }

        var source = ReplicationEnd.Read(sourceJson, "source", out error);
        var target = source is null ? null : ReplicationEnd.Read(targetJson, "target", out error);
        if (source is null || target is null)
        {
            return null;
        }

        var request = new ReplicationRequest(source.Value, target.Value);
        error = request.ReadOptions(root);
        return error is null ? request : null;
    }

    private static readonly HashSet<string> KnownFields = new(StringComparer.Ordinal)
    {
        "source", "target", "continuous", "cancel", "create_target", "doc_ids", "filter", "selector", "query_params", "since_seq",
    };

    private static readonly Dictionary<string, string> DocumentOnlyRefusals = new(StringComparer.Ordinal)
    {
        ["cancel"] = "a replication document is cancelled by deleting it, not by cancel",
        ["_rev"] = "a replication document is created once through the gateway: delete it and create another",
        ["_deleted"] = "a replication document is deleted with DELETE",
    };

    private string? ReadOptions(JsonElement root)
    {
        foreach (var property in root.EnumerateObject())
        {
            var value = property.Value;
            switch (property.Name)
            {
                case "continuous" or "cancel" or "create_target":
                    if (value.ValueKind is not (JsonValueKind.True or JsonValueKind.False))
                    {
                        return $"{property.Name} must be true or false";
                    }

                    var on = value.ValueKind == JsonValueKind.True;
                    if (property.Name == "continuous")
                    {
                        Continuous = on;
                    }
                    else if (property.Name == "cancel")
                    {
                        Cancel = on;
                    }
                    else
                    {
                        CreateTarget = on;
                    }

                    break;
                case "doc_ids":
                    if (value.ValueKind != JsonValueKind.Array || value.EnumerateArray().Any(id => id.ValueKind != JsonValueKind.String || id.GetString()!.Length == 0))
                    {
                        return "doc_ids must be an array of document ids";
                    }

                    DocIds = value.EnumerateArray().Select(id => id.GetString()!).ToArray();
                    break;
                case "filter":
                    if (value.ValueKind != JsonValueKind.String || !IsFilterName(value.GetString()!))
                    {
                        return "filter must be _doc_ids, _selector, _view or DDOC/NAME";
                    }

                    Filter = value.GetString();
                    break;
                case "selector":
                    if (value.ValueKind != JsonValueKind.Object)
                    {
                        return "selector must be an object";
                    }

                    Selector = value.Clone();
                    break;
                case "query_params":
                    if (value.ValueKind != JsonValueKind.Object)
                    {
                        return "query_params must be an object";
                    }

                    QueryParams = value.Clone();
                    break;
                case "since_seq":
                    if (value.ValueKind is not (JsonValueKind.String or JsonValueKind.Number))
                    {
                        return "since_seq must be a string or a number";
                    }

                    SinceSeq = value.Clone();
                    break;
            }
        }

        return null;
    }

    private static bool IsFilterName(string filter)
    {
        if (filter is "_doc_ids" or "_selector" or "_view")
        {
            return true;
        }

        var slash = filter.IndexOf('/', StringComparison.Ordinal);
        return slash > 0 && slash < filter.Length - 1 && filter.IndexOf('/', slash + 1) < 0 && !filter.StartsWith('_') && !filter.Any(char.IsControl);
    }
}
