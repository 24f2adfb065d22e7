using System.Net.Http.Headers;
using System.Text.Json;
using Gatehouse.Config;
using Gatehouse.Front;
using Gatehouse.Http1;
using Gatehouse.Model;
using Gatehouse.Policy;
using Gatehouse.Proxy;
using Microsoft.Extensions.Logging;

namespace Gatehouse.Routing;

/// <summary>
/// Documents in <c>_replicator</c> through a couchdb route (issue 23 item 2), for a key with the
/// <c>replicate</c> grant. <c>PUT /_replicator/{id}</c> is judged as <c>POST /_replicate</c> is and
/// stored rebuilt (the role's credential, the gateway's URLs, the creator); <c>GET</c> shows the
/// creator its document with its ends as it wrote them, never the credential; <c>DELETE</c>
/// (which cancels the replication) is for the creator only. Every other <c>_replicator</c> path
/// stays closed: listing it would show other keys' replications.
/// </summary>
internal sealed class CouchReplicatorDocuments(Uri node, CouchEnvironment environment, CouchReplication replication, ILogger logger) : IDisposable
{
    private const string Database = ReplicationBody.ReplicatorDatabase;

    private const int MaxAnswerBytes = 1024 * 1024;

    private readonly HttpClient _client = new(new SocketsHttpHandler { ConnectTimeout = TimeSpan.FromSeconds(5) }) { Timeout = TimeSpan.FromSeconds(30) };

    /// <summary>True when <paramref name="tail"/> (the path after the mount) is <c>_replicator/{id}</c>.</summary>
    public static bool IsDocumentPath(ReadOnlySpan<string> tail, out string id)
    {
        id = tail.Length == 2 && tail[0] == Database ? tail[1] : string.Empty;
        return id.Length > 0;
    }

    /// <returns>The id of the document CouchDB stored (2xx to a PUT), for provenance; otherwise null.</returns>
    public async Task<string?> HandleAsync(HttpExchange exchange, Route route, string? role, IAccessPolicy policy, string id, string? query, CancellationToken stopping)
    {
        var holder = Provenance.ProvenanceRecorder.HolderOf(exchange.Principal);
        if (exchange.Request.Method == "PUT")
        {
            if (await replication.ReadAndJudgeAsync(exchange, route, role, policy, id, stopping).ConfigureAwait(false) is not { } judged)
            {
                return null;
            }

            var document = ReplicationBody.WriteDocument(judged.Request, judged.Upstream, holder);
            var (status, answer) = await SendAsync(HttpMethod.Put, id, null, document, judged.Credential, stopping).ConfigureAwait(false);
            logger.LogInformation("replication document {Id} ({Source} -> {Target}) for {Holder}: CouchDB answered {Status}", id, judged.Request.Source, judged.Request.Target, holder, status);
            await AnswerAsync(exchange, status, answer, judged.Credential, stopping).ConfigureAwait(false);
            return status is 201 or 202 ? id : null;
        }

        if (!replication.TryCredential(role, out var credential))
        {
            await exchange.Response.SendErrorAsync(403, "no CouchDB credential for this key's role", stopping).ConfigureAwait(false);
            return null;
        }

        // GET and DELETE: only the key that created the document (the gateway wrote its creator).
        var (readStatus, stored) = await SendAsync(HttpMethod.Get, id, null, null, credential, stopping).ConfigureAwait(false);
        if (readStatus != 200)
        {
            await AnswerAsync(exchange, readStatus, stored, credential, stopping).ConfigureAwait(false);
            return null;
        }

        if (ReplicationBody.CreatorOf(stored) != holder)
        {
            await exchange.Response.SendErrorAsync(403, $"replication document {id} was not created by this key", stopping).ConfigureAwait(false);
            return null;
        }

        if (exchange.Request.Method == "DELETE")
        {
            var (status, answer) = await SendAsync(HttpMethod.Delete, id, query, null, credential, stopping).ConfigureAwait(false);
            logger.LogInformation("replication document {Id} deleted by {Holder}: CouchDB answered {Status}", id, holder, status);
            await AnswerAsync(exchange, status, answer, credential, stopping).ConfigureAwait(false);
            return null;
        }

        await exchange.Response.SendAsync(200, "application/json", CouchReplication.Scrub(AsWritten(stored), credential), stopping).ConfigureAwait(false);
        return null;
    }

    /// <summary>
    /// The stored document as its creator wrote it: source and target as given (not the URLs
    /// with the role's credential), without the gateway's and the replicator's user context.
    /// </summary>
    private static byte[] AsWritten(byte[] stored)
    {
        using var json = JsonDocument.Parse(stored);
        var mark = json.RootElement.GetProperty(ReplicationBody.CreatorField);
        using var buffer = new MemoryStream();
        using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStartObject();
            foreach (var property in json.RootElement.EnumerateObject())
            {
                if (property.Name is "source" or "target" && mark.TryGetProperty(property.Name, out var given))
                {
                    writer.WritePropertyName(property.Name);
                    given.WriteTo(writer);
                }
                else if (property.Name is not ("user_ctx" or "userCtx" or ReplicationBody.CreatorField))
                {
                    property.WriteTo(writer);
                }
            }

            writer.WriteEndObject();
        }

        return buffer.ToArray();
    }

    private async Task AnswerAsync(HttpExchange exchange, int status, byte[] answer, CouchCredential credential, CancellationToken stopping)
    {
        if (status == 0)
        {
            await exchange.Response.SendErrorAsync(502, "CouchDB did not answer", stopping).ConfigureAwait(false);
            return;
        }

        await exchange.Response.SendAsync(status, "application/json", CouchReplication.Scrub(answer, credential), stopping).ConfigureAwait(false);
    }

    /// <returns>CouchDB's status and answer; status 0 when it did not answer.</returns>
    private async Task<(int Status, byte[] Answer)> SendAsync(HttpMethod method, string id, string? query, byte[]? body, CouchCredential credential, CancellationToken stopping)
    {
        var path = $"{Database}/{Uri.EscapeDataString(id)}" + (string.IsNullOrEmpty(query) ? string.Empty : "?" + query);
        using var message = new HttpRequestMessage(method, new Uri(node, path));
        if (body is not null)
        {
            message.Content = new ByteArrayContent(body);
            message.Content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        }

        foreach (var (name, value) in CouchCredentialHeaders.For(environment, credential))
        {
            message.Headers.TryAddWithoutValidation(name, value);
        }

        try
        {
            using var response = await _client.SendAsync(message, HttpCompletionOption.ResponseHeadersRead, stopping).ConfigureAwait(false);
            return ((int)response.StatusCode, await CouchReplication.ReadBoundedAsync(response.Content, MaxAnswerBytes, stopping).ConfigureAwait(false));
        }
        catch (Exception ex) when (ex is HttpRequestException or OperationCanceledException or IOException)
        {
            logger.LogWarning("{Method} {Database}/{Id}: CouchDB did not answer: {Reason}", method, Database, id, ex.Message);
            return (0, []);
        }
    }

    public void Dispose() => _client.Dispose();
}
