namespace Gatehouse.Proxy;

/// <summary>
/// The access classes a principal's CouchDB rule may grant (issue 3). Every endpoint maps to
/// exactly one primary class in <see cref="CouchEndpoints"/>; anything unlisted is <see cref="Denied"/>.
/// </summary>
public enum CouchAccess
{
    /// <summary>Closed to every remote principal (admin, config, design functions, unknown endpoints).</summary>
    Denied,

    /// <summary><c>GET /</c>: the server's welcome object.</summary>
    ServerInfo,

    /// <summary><c>GET /_all_dbs</c>: answered by the gateway itself, filtered to what the caller may see.</summary>
    AllDbs,

    /// <summary>We are a replication source.</summary>
    Pull,

    /// <summary>We are a replication target.</summary>
    Push,

    /// <summary>Plain document and attachment reads.</summary>
    Read,

    /// <summary>Plain document and attachment writes and deletes.</summary>
    Write,

    /// <summary><c>PUT /db</c>.</summary>
    Create,

    /// <summary>
    /// <c>PUT /db/_design/{name}</c> (issue 7): writing a design document, code the server runs
    /// (views, validate_doc_update). Its own grant, never implied by write; its functions stay closed.
    /// </summary>
    Design,

    /// <summary>
    /// Running design code a <see cref="Design"/> grant put there, read-only (issue 23): views
    /// (<c>_design/x/_view/y</c>), Mango <c>_find</c>/<c>_explain</c>, and changes filtered by a design
    /// function or a view.
    /// </summary>
    Query,

    /// <summary><c>DELETE /db</c> (issue 23).</summary>
    Delete,

    /// <summary><c>_compact</c>, <c>_compact/{ddoc}</c> and <c>_view_cleanup</c> (issue 23).</summary>
    Maintain,

    /// <summary>
    /// <c>POST /_replicate</c> (issue 23): a server-side replication between databases the key may
    /// pull from and push to, or a peer link it may use; the body is judged and rewritten whole.
    /// </summary>
    Replicate,
}
