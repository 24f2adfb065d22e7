using System.Text;
using System.Text.Json;

namespace Gatehouse.Proxy;

/// <summary>Where the server's replicator reaches each end, and as whom (chosen by the gateway).</summary>
/// <param name="Couch">The CouchDB node the request goes to; local ends are databases on it.</param>
/// <param name="Username">The role's CouchDB user, put in a local end's URL (Basic)…</param>
/// <param name="Password">…with its password; null when the role authenticates by headers instead.</param>
/// <param name="Headers">Proxy-authentication headers for local ends when there is no password.</param>
/// <param name="PeerLinks">The plain loopback listener whose <c>/_peers/NAME/</c> carries peer ends; null when none is configured.</param>
public sealed record ReplicationUpstream(Uri Couch, string Username, string? Password, IReadOnlyList<KeyValuePair<string, string>> Headers, Uri? PeerLinks);

/// <summary>
/// Rebuilds a judged <see cref="ReplicationRequest"/> as the body CouchDB gets (issue 23 item 2):
/// the judged fields only, each end turned into the URL the gateway chose. With a password the
/// credential rides in the URL's user information (CouchDB and PouchDB both read it there, and
/// CouchDB masks it in its task lists); with proxy authentication an end is CouchDB's
/// <c>{"url", "headers"}</c> object.
/// </summary>
public static class ReplicationBody
{
    public static byte[] Write(ReplicationRequest request, ReplicationUpstream upstream)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(upstream);
        using var buffer = new MemoryStream();
        using (var json = new Utf8JsonWriter(buffer))
        {
            json.WriteStartObject();
            WriteFields(json, request, upstream);
            json.WriteEndObject();
        }

        return buffer.ToArray();
    }

    /// <summary>
    /// The document <c>PUT /_replicator/{id}</c> stores: the same fields, <c>user_ctx</c> naming the
    /// role's user (CouchDB and pouchdb-server refuse a non-admin's document without it; no roles,
    /// so it adds none), and <see cref="CreatorField"/>: who created it and its ends as that key wrote
    /// them, for reading it back without the credential and for deleting it only for its creator.
    /// </summary>
    public static byte[] WriteDocument(ReplicationRequest request, ReplicationUpstream upstream, string creator)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(upstream);
        ArgumentNullException.ThrowIfNull(creator);
        using var buffer = new MemoryStream();
        using (var json = new Utf8JsonWriter(buffer))
        {
            json.WriteStartObject();
            WriteFields(json, request, upstream);
            json.WriteStartObject("user_ctx");
            json.WriteString("name", upstream.Username);
            json.WriteStartArray("roles");
            json.WriteEndArray();
            json.WriteEndObject();
            json.WriteStartObject(CreatorField);
            json.WriteString("creator", creator);
            json.WritePropertyName("source");
            WriteAsGiven(json, request.Source);
            json.WritePropertyName("target");
            WriteAsGiven(json, request.Target);
            json.WriteEndObject();
            json.WriteEndObject();
        }

        return buffer.ToArray();
    }

    /// <summary>The database of CouchDB's replicator documents.</summary>
    public const string ReplicatorDatabase = "_replicator";

    /// <summary>The field of a <c>_replicator</c> document where the gateway keeps its creator and ends.</summary>
    public const string CreatorField = "gatehouse";

    /// <summary>The creator the gateway wrote into a stored document; null when there is none.</summary>
    public static string? CreatorOf(byte[] document)
    {
        try
        {
            using var json = JsonDocument.Parse(document);
            return json.RootElement.ValueKind == JsonValueKind.Object
                && json.RootElement.TryGetProperty(CreatorField, out var mark)
                && mark.ValueKind == JsonValueKind.Object
                && mark.TryGetProperty("creator", out var creator)
                && creator.ValueKind == JsonValueKind.String
                ? creator.GetString()
                : null;
        }
        catch (JsonException)
        {
            return null;
        }
    }

    /// <summary>An end as the key wrote it: a database name, or its peer object.</summary>
    public static void WriteAsGiven(Utf8JsonWriter json, ReplicationEnd end)
    {
        ArgumentNullException.ThrowIfNull(json);
        if (end.Peer is not { } peer)
        {
            json.WriteStringValue(end.Database);
            return;
        }

        json.WriteStartObject();
        json.WriteString("peer", peer);
        json.WriteString("db", end.Database);
        json.WriteString("prefix", end.PeerPrefix);
        json.WriteEndObject();
    }

    private static void WriteFields(Utf8JsonWriter json, ReplicationRequest request, ReplicationUpstream upstream)
    {
        json.WritePropertyName("source");
        WriteEnd(json, request.Source, upstream);
        json.WritePropertyName("target");
        WriteEnd(json, request.Target, upstream);
        if (request.Continuous)
        {
            json.WriteBoolean("continuous", true);
        }

        if (request.Cancel)
        {
            json.WriteBoolean("cancel", true);
        }

        if (request.CreateTarget)
        {
            json.WriteBoolean("create_target", true);
        }

        if (request.DocIds is { } ids)
        {
            json.WriteStartArray("doc_ids");
            foreach (var id in ids)
            {
                json.WriteStringValue(id);
            }

            json.WriteEndArray();
        }

        if (request.Filter is { } filter)
        {
            json.WriteString("filter", filter);
        }

        WriteElement(json, "selector", request.Selector);
        WriteElement(json, "query_params", request.QueryParams);
        WriteElement(json, "since_seq", request.SinceSeq);
    }

    /// <summary>The URL the replicator is given for <paramref name="end"/>, credential included for a local end with a password.</summary>
    public static string UrlOf(ReplicationEnd end, ReplicationUpstream upstream, bool withCredential)
    {
        ArgumentNullException.ThrowIfNull(upstream);
        var database = Uri.EscapeDataString(end.Database);
        if (end.Peer is { } peer)
        {
            var links = upstream.PeerLinks ?? throw new InvalidOperationException("no loopback listener carries peer links");
            return $"{links.GetLeftPart(UriPartial.Authority)}/_peers/{Uri.EscapeDataString(peer)}{EscapePath(end.PeerPrefix)}{database}";
        }

        var couch = upstream.Couch;
        var userInfo = withCredential && upstream.Password is { } password
            ? Uri.EscapeDataString(upstream.Username) + ":" + Uri.EscapeDataString(password) + "@"
            : string.Empty;
        var path = couch.AbsolutePath.EndsWith('/') ? couch.AbsolutePath : couch.AbsolutePath + "/";
        return $"{couch.Scheme}://{userInfo}{couch.Authority}{path}{database}";
    }

    private static void WriteEnd(Utf8JsonWriter json, ReplicationEnd end, ReplicationUpstream upstream)
    {
        if (end.IsLocal && upstream.Password is null)
        {
            json.WriteStartObject();
            json.WriteString("url", UrlOf(end, upstream, withCredential: false));
            json.WriteStartObject("headers");
            foreach (var (name, value) in upstream.Headers)
            {
                json.WriteString(name, value);
            }

            json.WriteEndObject();
            json.WriteEndObject();
            return;
        }

        json.WriteStringValue(UrlOf(end, upstream, withCredential: true));
    }

    private static void WriteElement(Utf8JsonWriter json, string name, JsonElement? element)
    {
        if (element is { } value)
        {
            json.WritePropertyName(name);
            value.WriteTo(json);
        }
    }

    private static string EscapePath(string prefix)
    {
        var escaped = new StringBuilder("/");
        foreach (var segment in prefix.Split('/', StringSplitOptions.RemoveEmptyEntries))
        {
            escaped.Append(Uri.EscapeDataString(segment)).Append('/');
        }

        return escaped.ToString();
    }
}
