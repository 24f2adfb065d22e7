using System.Collections.Frozen;

namespace Gatehouse.Proxy;

/// <summary>
/// The query parameters each row of <see cref="CouchEndpoints"/> accepts (issue 17): a parameter
/// decides what CouchDB does (<c>filter=</c> runs design code, <c>new_edits=false</c> makes a
/// replicated write), so a name the gateway did not judge must not reach it. Names are CouchDB's
/// (3.x documentation) plus what PouchDB's http adapter sends; <c>_nonce</c>, PouchDB's cache
/// buster, is accepted on reads because CouchDB ignores it.
/// </summary>
public static class CouchParameters
{
    public static readonly FrozenSet<string> None = FrozenSet<string>.Empty;

    private static readonly string[] DocumentReadNames =
    [
        "attachments", "att_encoding_info", "atts_since", "conflicts", "deleted_conflicts", "latest",
        "local_seq", "meta", "open_revs", "rev", "revs", "revs_info", "_nonce",
    ];

    public static readonly FrozenSet<string> DocumentRead = DocumentReadNames.ToFrozenSet(StringComparer.Ordinal);

    public static readonly FrozenSet<string> DocumentWrite = Set("rev", "batch", "new_edits");

    public static readonly FrozenSet<string> DocumentDelete = Set("rev", "batch");

    public static readonly FrozenSet<string> NewDocument = Set("batch");

    /// <summary>Deleting a <c>_replicator</c> document (which cancels its replication): its revision only.</summary>
    public static readonly FrozenSet<string> ReplicatorDelete = Set("rev");

    public static readonly FrozenSet<string> AttachmentRead = Set("rev", "_nonce");

    public static readonly FrozenSet<string> AttachmentWrite = Set("rev");

    public static readonly FrozenSet<string> Local = Set("rev", "_nonce");

    public static readonly FrozenSet<string> CreateDatabase = Set("q", "n", "partitioned");

    public static readonly FrozenSet<string> Reads = Set("_nonce");

    public static readonly FrozenSet<string> Changes = Set(
        "doc_ids", "conflicts", "descending", "feed", "filter", "heartbeat", "include_docs", "attachments",
        "att_encoding_info", "last-event-id", "limit", "since", "style", "timeout", "view", "seq_interval",
        "update_seq", "_nonce");

    public static readonly FrozenSet<string> AllDocs = Set(
        "conflicts", "descending", "endkey", "end_key", "endkey_docid", "end_key_doc_id", "include_docs",
        "inclusive_end", "key", "keys", "limit", "skip", "stale", "startkey", "start_key", "startkey_docid",
        "start_key_doc_id", "update_seq", "attachments", "att_encoding_info", "sorted", "stable", "update", "_nonce");

    public static readonly FrozenSet<string> BulkGet = Set("revs", "latest", "attachments", "att_encoding_info");

    public static readonly FrozenSet<string> View = Set(
        "conflicts", "descending", "endkey", "end_key", "endkey_docid", "end_key_doc_id", "group", "group_level",
        "include_docs", "attachments", "att_encoding_info", "inclusive_end", "key", "keys", "limit", "reduce", "skip",
        "sorted", "stable", "stale", "startkey", "start_key", "startkey_docid", "start_key_doc_id", "update",
        "update_seq", "_nonce");

    /// <summary>Answered by the gateway, which reads none of them; accepted so a client's paging does not fail.</summary>
    public static readonly FrozenSet<string> AllDbs = Set("descending", "endkey", "end_key", "limit", "skip", "startkey", "start_key", "_nonce");

    private static FrozenSet<string> Set(params string[] names) => names.ToFrozenSet(StringComparer.Ordinal);
}
