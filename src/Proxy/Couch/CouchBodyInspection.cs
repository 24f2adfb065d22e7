namespace Gatehouse.Proxy;

/// <summary>
/// Where CouchDB (or pouchdb-server) may take a document id from the request body (issue 17 item 2,
/// DESIGN.md decision 3): these writes are read by <see cref="DesignDocumentScanner"/> for a caller
/// without the design grant, so a design document cannot ride in under write or push.
/// </summary>
public enum CouchBodyInspection
{
    /// <summary>The body names no document id the server would use (or none is sent).</summary>
    None,

    /// <summary>
    /// One document as the top-level object: <c>POST /db</c>, and <c>PUT /db/{id}</c> and
    /// <c>PUT /db/_local/{id}</c> (CouchDB takes the id from the URL, but pouchdb-server takes a body
    /// <c>_id</c> first).
    /// </summary>
    Document,

    /// <summary><c>POST /db/_bulk_docs</c>: every object in the top-level <c>docs</c> array.</summary>
    BulkDocs,
}
