using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Gatehouse.Config;
using Gatehouse.Front;
using Gatehouse.Proxy;

namespace Gatehouse.Provenance;

/// <summary>
/// The CouchDB side of provenance (issue 7), spoken with the gateway's own credential, never a
/// principal's: writes and reads the records in the provenance database, and (for
/// <c>gatehouse grants revoke --apply</c>) removes databases, design documents and
/// <c>_replicator</c> documents.
/// Failures are <see cref="HttpRequestException"/>s naming the operation and the status.
/// </summary>
internal sealed class ProvenanceCouch : IDisposable
{
    private readonly HttpClient _http;
    private readonly Uri _node;
    private readonly KeyValuePair<string, string>[] _credential;

    public ProvenanceCouch(CouchEnvironment environment, CouchCredential credential, string database)
    {
        _node = environment.NodeUrls()[0];
        _credential = CouchCredentialHeaders.For(environment, credential);
        Database = database;
        _http = new HttpClient(new SocketsHttpHandler { ConnectTimeout = TimeSpan.FromSeconds(5) }) { Timeout = TimeSpan.FromSeconds(30) };
    }

    public string Database { get; }

    /// <summary>Stores <paramref name="record"/>; an existing one with the same id is kept (first creation time wins). Creates the database on first use.</summary>
    public async Task AddAsync(ProvenanceRecord record, CancellationToken cancellationToken)
    {
        var body = JsonSerializer.SerializeToUtf8Bytes(record, ProvenanceJsonContext.Default.ProvenanceRecord);
        var status = await PutRecordAsync(record.Id, body, cancellationToken).ConfigureAwait(false);
        if (status == HttpStatusCode.NotFound)
        {
            await CreateDatabaseAsync(cancellationToken).ConfigureAwait(false);
            status = await PutRecordAsync(record.Id, body, cancellationToken).ConfigureAwait(false);
        }

        // 409: this holder's record of this resource is already there; that is the idempotence we want.
        if (status is not (HttpStatusCode.Created or HttpStatusCode.Accepted or HttpStatusCode.Conflict))
        {
            throw Failed("PUT", Database + "/…", status);
        }
    }

    /// <summary>Every record; none when the database does not exist yet.</summary>
    public async Task<IReadOnlyList<ProvenanceRecord>> ReadAllAsync(CancellationToken cancellationToken)
    {
        using var response = await SendAsync(HttpMethod.Get, Escape(Database) + "/_all_docs?include_docs=true", null, cancellationToken).ConfigureAwait(false);
        if (response.StatusCode == HttpStatusCode.NotFound)
        {
            return [];
        }

        if (!response.IsSuccessStatusCode)
        {
            throw Failed("GET", Database + "/_all_docs", response.StatusCode);
        }

        var page = await response.Content.ReadFromJsonAsync(ProvenanceJsonContext.Default.AllDocsPage, cancellationToken).ConfigureAwait(false);
        return [.. (page?.Rows ?? []).Select(row => row.Doc).OfType<ProvenanceRecord>().Where(doc => doc.Holder.Length > 0 && doc.Kind.Length > 0)];
    }

    public async Task RemoveRecordAsync(ProvenanceRecord record, CancellationToken cancellationToken)
    {
        using var response = await SendAsync(HttpMethod.Delete, $"{Escape(Database)}/{Escape(record.Id)}?rev={Uri.EscapeDataString(record.Rev ?? string.Empty)}", null, cancellationToken).ConfigureAwait(false);
        if (!response.IsSuccessStatusCode && response.StatusCode != HttpStatusCode.NotFound)
        {
            throw Failed("DELETE", Database + "/…", response.StatusCode);
        }
    }

    /// <summary>Deletes database <paramref name="database"/>; false when it was already gone.</summary>
    public async Task<bool> DeleteDatabaseAsync(string database, CancellationToken cancellationToken)
    {
        using var response = await SendAsync(HttpMethod.Delete, Escape(database), null, cancellationToken).ConfigureAwait(false);
        return Removed(response, "DELETE", database);
    }

    /// <summary>Deletes design document <paramref name="docId"/> (<c>_design/NAME</c>) at its current revision; false when it was already gone.</summary>
    public async Task<bool> DeleteDesignAsync(string database, string docId, CancellationToken cancellationToken)
    {
        var path = $"{Escape(database)}/_design/{Escape(docId["_design/".Length..])}";
        string? rev;
        using (var current = await SendAsync(HttpMethod.Get, path, null, cancellationToken).ConfigureAwait(false))
        {
            if (current.StatusCode == HttpStatusCode.NotFound)
            {
                return false;
            }

            if (!current.IsSuccessStatusCode)
            {
                throw Failed("GET", $"{database}/{docId}", current.StatusCode);
            }

            rev = (await current.Content.ReadFromJsonAsync(ProvenanceJsonContext.Default.DocRevision, cancellationToken).ConfigureAwait(false))?.Rev;
        }

        using var response = await SendAsync(HttpMethod.Delete, $"{path}?rev={Uri.EscapeDataString(rev ?? string.Empty)}", null, cancellationToken).ConfigureAwait(false);
        return Removed(response, "DELETE", $"{database}/{docId}");
    }

    /// <summary>
    /// Deletes <c>_replicator</c> document <paramref name="docId"/> (CouchDB and pouchdb-server
    /// cancel its replication) when the gateway recorded <paramref name="holder"/> as its creator in
    /// it; false when it is gone, or is another key's that took the id after this one deleted its own.
    /// </summary>
    public async Task<bool> DeleteReplicatorDocumentAsync(string docId, string holder, CancellationToken cancellationToken)
    {
        var path = $"{ReplicationBody.ReplicatorDatabase}/{Escape(docId)}";
        string? rev;
        using (var current = await SendAsync(HttpMethod.Get, path, null, cancellationToken).ConfigureAwait(false))
        {
            if (current.StatusCode == HttpStatusCode.NotFound)
            {
                return false;
            }

            if (!current.IsSuccessStatusCode)
            {
                throw Failed("GET", path, current.StatusCode);
            }

            var document = await current.Content.ReadAsByteArrayAsync(cancellationToken).ConfigureAwait(false);
            if (ReplicationBody.CreatorOf(document) != holder)
            {
                return false;
            }

            rev = JsonSerializer.Deserialize(document, ProvenanceJsonContext.Default.DocRevision)?.Rev;
        }

        using var response = await SendAsync(HttpMethod.Delete, $"{path}?rev={Uri.EscapeDataString(rev ?? string.Empty)}", null, cancellationToken).ConfigureAwait(false);
        return Removed(response, "DELETE", path);
    }

    public void Dispose() => _http.Dispose();

    private async Task<HttpStatusCode> PutRecordAsync(string id, byte[] body, CancellationToken cancellationToken)
    {
        using var content = new ByteArrayContent(body);
        content.Headers.ContentType = new("application/json");
        using var response = await SendAsync(HttpMethod.Put, $"{Escape(Database)}/{Escape(id)}", content, cancellationToken).ConfigureAwait(false);
        return response.StatusCode;
    }

    private async Task CreateDatabaseAsync(CancellationToken cancellationToken)
    {
        using var response = await SendAsync(HttpMethod.Put, Escape(Database), null, cancellationToken).ConfigureAwait(false);

        // 412: another writer made it in between.
        if (!response.IsSuccessStatusCode && response.StatusCode != HttpStatusCode.PreconditionFailed)
        {
            throw Failed("PUT", Database, response.StatusCode);
        }
    }

    private Task<HttpResponseMessage> SendAsync(HttpMethod method, string relative, HttpContent? content, CancellationToken cancellationToken)
    {
        var request = new HttpRequestMessage(method, new Uri(_node, relative)) { Content = content };
        foreach (var header in _credential)
        {
            request.Headers.TryAddWithoutValidation(header.Key, header.Value);
        }

        return SendOwnedAsync(request, cancellationToken);
    }

    private async Task<HttpResponseMessage> SendOwnedAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        using (request)
        {
            return await _http.SendAsync(request, cancellationToken).ConfigureAwait(false);
        }
    }

    private static bool Removed(HttpResponseMessage response, string method, string what)
    {
        if (response.StatusCode == HttpStatusCode.NotFound)
        {
            return false;
        }

        return response.IsSuccessStatusCode ? true : throw Failed(method, what, response.StatusCode);
    }

    /// <summary>A database name may hold '/', a record id '|' and '/': each travels as one escaped segment.</summary>
    private static string Escape(string segment) => Uri.EscapeDataString(segment);

    private static HttpRequestException Failed(string method, string what, HttpStatusCode status) =>
        new($"CouchDB answered {(int)status} to {method} /{what}", null, status);
}
