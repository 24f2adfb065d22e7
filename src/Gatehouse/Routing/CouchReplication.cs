using System.Net.Http.Headers;
using System.Text;
using Gatehouse.Config;
using Gatehouse.Front;
using Gatehouse.Http1;
using Gatehouse.Model;
using Gatehouse.Policy;
using Gatehouse.Proxy;
using Microsoft.Extensions.Logging;

namespace Gatehouse.Routing;

/// <summary>
/// <c>POST /_replicate</c> through a couchdb route (issue 23 item 2). The body is read whole
/// (bounded), judged against every rule of the key — pull (and query for a design filter) on a
/// local source, push and design on a local target (create too when it does not exist or
/// <c>create_target</c> asks), the peer grant for a peer end — and rebuilt with
/// the role's credential and the gateway's own URLs before CouchDB sees it. Sent by the gateway
/// itself, not the forwarder: the forwarded body is a different one from the client's.
/// </summary>
internal sealed class CouchReplication(Uri node, CouchEnvironment environment, PeerLinkEntrance peerLinks, ILogger logger) : IDisposable
{
    /// <summary>A replication that is not continuous answers when it is done; bounded all the same.</summary>
    private static readonly TimeSpan ReplicationTimeout = TimeSpan.FromMinutes(10);

    private const int MaxAnswerBytes = 1024 * 1024;

    private readonly HttpClient _client = new(new SocketsHttpHandler { ConnectTimeout = TimeSpan.FromSeconds(5) }) { Timeout = Timeout.InfiniteTimeSpan };

    /// <returns>The judged request when CouchDB took it (2xx), for provenance; otherwise null.</returns>
    public async Task<ReplicationRequest?> HandleAsync(HttpExchange exchange, Route route, string? role, IAccessPolicy policy, CancellationToken stopping)
    {
        var judged = await ReadAndJudgeAsync(exchange, route, role, policy, documentId: null, stopping).ConfigureAwait(false);
        return judged is not null && await SendAsync(exchange, judged.Request, judged.Upstream, judged.Credential, stopping).ConfigureAwait(false)
            ? judged.Request
            : null;
    }

    /// <summary>
    /// Reads the body (of <c>POST /_replicate</c>, or of <c>PUT /_replicator/{documentId}</c>),
    /// judges it against every rule of the key and works out the role's upstream. On refusal the
    /// answer is sent here and the result is null.
    /// </summary>
    internal async Task<JudgedReplication?> ReadAndJudgeAsync(HttpExchange exchange, Route route, string? role, IAccessPolicy policy, string? documentId, CancellationToken stopping)
    {
        var (request, status, reason) = await ReadAsync(exchange, documentId, stopping).ConfigureAwait(false);
        if (request is not null)
        {
            (status, reason) = Judge(request, route, exchange.Principal, policy);
        }

        // Revoking a key must stop what it started. A _replicator document can be deleted; a
        // continuous POST /_replicate could be cancelled only by replaying its body, and
        // pouchdb-server cannot cancel at all. So POST /_replicate starts one-shot replications only.
        if (request is { Continuous: true, Cancel: false } && documentId is null && status == 200)
        {
            (status, reason) = (403, "a continuous replication must be a _replicator document, so that revoking the key stops it: PUT /_replicator/{id}");
        }

        if (request is null || status != 200)
        {
            logger.LogInformation("refused replication from {Remote}: {Reason}", exchange.RemoteEndPoint, reason);
            await exchange.Response.SendErrorAsync(status, reason!, stopping).ConfigureAwait(false);
            return null;
        }

        if (!TryCredential(role, out var credential))
        {
            await exchange.Response.SendErrorAsync(403, "no CouchDB credential for this key's role", stopping).ConfigureAwait(false);
            return null;
        }

        // A missing target is created by pouchdb-server whatever create_target says (its replicator
        // opens the target over HTTP, which creates it): then only a key with create may ask.
        if (request.Target.IsLocal && !request.CreateTarget && !request.Cancel)
        {
            var exists = await DatabaseExistsAsync(request.Target.Database, CouchCredentialHeaders.For(environment, credential), stopping).ConfigureAwait(false);
            if (exists is null)
            {
                await exchange.Response.SendErrorAsync(502, "CouchDB did not say whether the target exists", stopping).ConfigureAwait(false);
                return null;
            }

            if (exists == false && !policy.HasCouchGrant(exchange.Principal, request.Target.Database, CouchAccess.Create))
            {
                await exchange.Response.SendErrorAsync(403, $"no create grant on {request.Target.Database} for this key (the target does not exist)", stopping).ConfigureAwait(false);
                return null;
            }
        }

        return new JudgedReplication(request, credential, UpstreamFor(credential));
    }

    /// <summary>The role's CouchDB credential, when the stdin environment has one.</summary>
    internal bool TryCredential(string? role, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out CouchCredential? credential)
    {
        credential = null;
        return role is not null && environment.Credentials.TryGetValue(role, out credential);
    }

    private ReplicationUpstream UpstreamFor(CouchCredential credential) => new(
        node,
        credential.Username,
        environment.ProxyAuthSecret is { Length: > 0 } ? null : credential.Password,
        CouchCredentialHeaders.For(environment, credential),
        peerLinks.Url);

    private static async Task<(ReplicationRequest? Request, int Status, string? Reason)> ReadAsync(HttpExchange exchange, string? documentId, CancellationToken stopping)
    {
        var head = exchange.Request;
        if (!head.Headers.GetValues("Content-Encoding").All(coding => coding.Trim().Equals("identity", StringComparison.OrdinalIgnoreCase)))
        {
            return (null, 415, "a replication body is read as sent: no Content-Encoding");
        }

        if (head.Headers["Content-Type"] is not { } type || !MediaTypeHeaderValue.TryParse(type, out var media)
            || media.MediaType != "application/json" || media.CharSet is { } charset && !charset.Equals("utf-8", StringComparison.OrdinalIgnoreCase))
        {
            return (null, 415, "a replication body must be application/json in UTF-8");
        }

        if (head.ContentLength > ReplicationRequest.MaxBodyBytes)
        {
            return (null, 413, $"a replication body is at most {ReplicationRequest.MaxBodyBytes} bytes");
        }

        var buffer = new byte[ReplicationRequest.MaxBodyBytes + 1];
        var length = 0;
        int read;
        while ((read = await exchange.Body.ReadAsync(buffer.AsMemory(length), stopping).ConfigureAwait(false)) > 0)
        {
            length += read;
            if (length > ReplicationRequest.MaxBodyBytes)
            {
                return (null, 413, $"a replication body is at most {ReplicationRequest.MaxBodyBytes} bytes");
            }
        }

        var request = documentId is null
            ? ReplicationRequest.Parse(buffer.AsSpan(0, length), out var error)
            : ReplicationRequest.ParseDocument(buffer.AsSpan(0, length), documentId, out error);
        return request is null ? (null, 400, error) : (request, 200, null);
    }

    /// <summary>What the key may do with each end; 200 when all of it is granted, else 403 and the first reason.</summary>
    private (int Status, string? Reason) Judge(ReplicationRequest request, Route route, Wire.Principal principal, IAccessPolicy policy)
    {
        foreach (var (end, side) in new[] { (request.Source, "source"), (request.Target, "target") })
        {
            if (end.Peer is { } peer)
            {
                if (!policy.MayUsePeer(principal, peer))
                {
                    return (403, $"{side}: no grant of peer link {peer} for this key");
                }

                if (peerLinks.Url is null)
                {
                    return (403, $"{side}: peer ends need a plain loopback listener with a fixed port (it carries the link)");
                }

                continue;
            }

            if (CouchPolicy.IsProvenanceDatabase(route, end.Database))
            {
                return (403, $"{side}: the provenance database is the gateway's own");
            }

            if (!policy.HasCouchGrant(principal, end.Database, CouchAccess.Replicate))
            {
                return (403, $"{side}: no replicate grant on {end.Database} for this key");
            }
        }

        var needs = new List<(string Database, CouchAccess Access, string Why)>();
        if (request.Source.IsLocal)
        {
            needs.Add((request.Source.Database, CouchAccess.Pull, "to replicate from it"));
            if (request.FilterRunsDesignCode)
            {
                needs.Add((request.Source.Database, CouchAccess.Query, "its filter runs design code"));
            }
        }

        if (request.Target.IsLocal)
        {
            needs.Add((request.Target.Database, CouchAccess.Push, "to replicate into it"));

            // pouchdb-server's _replicate ignores doc_ids and selector, so neither can be trusted
            // to keep the source's design documents out of the target.
            needs.Add((request.Target.Database, CouchAccess.Design, "a replication copies the source's design documents"));
            if (request.CreateTarget)
            {
                needs.Add((request.Target.Database, CouchAccess.Create, "create_target"));
            }
        }

        foreach (var (database, access, why) in needs)
        {
            if (!policy.HasCouchGrant(principal, database, access))
            {
                return (403, $"no {access.ToString().ToLowerInvariant()} grant on {database} for this key ({why})");
            }
        }

        return (200, null);
    }

    private async Task<bool> SendAsync(HttpExchange exchange, ReplicationRequest request, ReplicationUpstream upstream, CouchCredential credential, CancellationToken stopping)
    {
        using var message = new HttpRequestMessage(HttpMethod.Post, new Uri(node, "_replicate"))
        {
            Content = new ByteArrayContent(ReplicationBody.Write(request, upstream)),
        };
        message.Content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        foreach (var (name, value) in upstream.Headers)
        {
            message.Headers.TryAddWithoutValidation(name, value);
        }

        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(stopping);
        timeout.CancelAfter(ReplicationTimeout);
        int status;
        byte[] answer;
        try
        {
            using var response = await _client.SendAsync(message, HttpCompletionOption.ResponseHeadersRead, timeout.Token).ConfigureAwait(false);
            status = (int)response.StatusCode;
            answer = await ReadBoundedAsync(response.Content, MaxAnswerBytes, timeout.Token).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is HttpRequestException or OperationCanceledException or IOException)
        {
            logger.LogWarning("replication {Source} -> {Target}: CouchDB did not answer: {Reason}", request.Source, request.Target, ex.Message);
            await exchange.Response.SendErrorAsync(502, "CouchDB did not answer the replication", stopping).ConfigureAwait(false);
            return false;
        }

        logger.LogInformation("replication {Source} -> {Target} for {Pin}: CouchDB answered {Status}", request.Source, request.Target, exchange.Principal.Pin, status);
        await exchange.Response.SendAsync(status, "application/json", Scrub(answer, credential), stopping).ConfigureAwait(false);
        return status is >= 200 and < 300;
    }

    /// <summary>True or false as CouchDB says with the role's credential; null when it said neither.</summary>
    private async Task<bool?> DatabaseExistsAsync(string database, KeyValuePair<string, string>[] credential, CancellationToken stopping)
    {
        using var message = new HttpRequestMessage(HttpMethod.Head, new Uri(node, Uri.EscapeDataString(database)));
        foreach (var (name, value) in credential)
        {
            message.Headers.TryAddWithoutValidation(name, value);
        }

        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(stopping);
        timeout.CancelAfter(TimeSpan.FromSeconds(30));
        try
        {
            using var response = await _client.SendAsync(message, timeout.Token).ConfigureAwait(false);
            return response.StatusCode switch
            {
                System.Net.HttpStatusCode.OK => true,
                System.Net.HttpStatusCode.NotFound => false,
                _ => null,
            };
        }
        catch (Exception ex) when (ex is HttpRequestException or OperationCanceledException)
        {
            return null;
        }
    }

    internal static async Task<byte[]> ReadBoundedAsync(HttpContent content, int maxBytes, CancellationToken cancellationToken)
    {
        await using var stream = await content.ReadAsStreamAsync(cancellationToken).ConfigureAwait(false);
        using var copy = new MemoryStream();
        var buffer = new byte[16 * 1024];
        int read;
        while ((read = await stream.ReadAsync(buffer, cancellationToken).ConfigureAwait(false)) > 0)
        {
            if (copy.Length + read > maxBytes)
            {
                throw new IOException($"the answer passed {maxBytes} bytes");
            }

            copy.Write(buffer, 0, read);
        }

        return copy.ToArray();
    }

    public void Dispose() => _client.Dispose();

    /// <summary>
    /// An error may quote the URL the gateway gave the replicator (pouchdb-server's do, unmasked):
    /// the role's password never reaches the client, raw or URL-encoded.
    /// </summary>
    internal static byte[] Scrub(byte[] answer, CouchCredential credential)
    {
        if (credential.Password.Length == 0)
        {
            return answer;
        }

        var text = Encoding.UTF8.GetString(answer);
        var scrubbed = text
            .Replace(Uri.EscapeDataString(credential.Password), "*****", StringComparison.Ordinal)
            .Replace(credential.Password, "*****", StringComparison.Ordinal);
        return ReferenceEquals(text, scrubbed) || text == scrubbed ? answer : Encoding.UTF8.GetBytes(scrubbed);
    }
}

/// <summary>A replication the key may start, and the role's credential and URLs it runs with.</summary>
internal sealed record JudgedReplication(ReplicationRequest Request, CouchCredential Credential, ReplicationUpstream Upstream);
