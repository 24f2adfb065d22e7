using System.Text.Json.Serialization;

namespace Gatehouse.Provenance;

/// <summary>
/// One document of the provenance database (issue 7): principal <see cref="Holder"/> created (or
/// asked to create what already existed: claimed) one resource through the gateway. One document
/// per (resource, holder) under a deterministic id, so a repeat is a harmless 409.
/// </summary>
public sealed class ProvenanceRecord
{
    public const string DatabaseKind = "database";
    public const string DesignKind = "design";

    /// <summary>A database the holder deleted (issue 23, the <c>delete</c> grant): who removed what, kept for the record.</summary>
    public const string DeletionKind = "deletion";

    /// <summary>A replication started with <c>POST /_replicate</c> (issue 23): <see cref="Database"/> is its target, <see cref="DocId"/> "from SOURCE".</summary>
    public const string ReplicationKind = "replication";

    /// <summary>A document the holder created in <c>_replicator</c> (issue 23): <see cref="Database"/> is <c>_replicator</c>, <see cref="DocId"/> its id; a revoke deletes it, which cancels it.</summary>
    public const string ReplicatorDocumentKind = "replicator";
    public const string Created = "created";
    public const string Claimed = "claimed";
    public const string Deleted = "deleted";

    /// <summary>Records a revoke lists but neither removes by nor deletes: what the holder did, not what it holds.</summary>
    [JsonIgnore]
    public bool IsDeed => Kind is DeletionKind or ReplicationKind;

    [JsonPropertyName("_id")]
    public string Id { get; set; } = string.Empty;

    /// <summary>Set when read back; needed to delete the record.</summary>
    [JsonPropertyName("_rev")]
    public string? Rev { get; set; }

    /// <summary>The key pin (<c>sha256//…</c>), or <c>local</c> / <c>anonymous</c> for principals without a key.</summary>
    public string Holder { get; set; } = string.Empty;

    /// <summary>The certificate subject, for people reading the list.</summary>
    public string Subject { get; set; } = string.Empty;

    /// <summary>How the gateway trusted the holder then: "ca" or "pin" (with <see cref="TrustName"/>), "local", "none".</summary>
    public string Trust { get; set; } = string.Empty;

    public string TrustName { get; set; } = string.Empty;

    /// <summary><see cref="DatabaseKind"/>, <see cref="DesignKind"/>, <see cref="DeletionKind"/>, <see cref="ReplicationKind"/> or <see cref="ReplicatorDocumentKind"/>.</summary>
    public string Kind { get; set; } = string.Empty;

    public string Database { get; set; } = string.Empty;

    /// <summary>The design document's id (<c>_design/NAME</c>) or the <c>_replicator</c> document's; null for a database.</summary>
    public string? DocId { get; set; }

    /// <summary><see cref="Created"/> (the upstream answered 201/202) or <see cref="Claimed"/> (PUT of a database that existed: 412).</summary>
    public string How { get; set; } = Created;

    public DateTimeOffset At { get; set; }

    /// <summary>The resource, the same for every holder: what "also holds it" compares.</summary>
    [JsonIgnore]
    public string Resource => DocId is null ? Database : Database + "/" + DocId;

    /// <summary>The deterministic document id for (holder, kind, resource).</summary>
    public static string IdFor(string holder, string kind, string database, string? docId) =>
        $"{holder}|{kind}|{database}|{docId}";
}
