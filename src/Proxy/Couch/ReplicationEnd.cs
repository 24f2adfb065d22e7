using System.Text.Json;

namespace Gatehouse.Proxy;

/// <summary>
/// One end of a replication through the gateway (issue 23 item 2): a database on this CouchDB,
/// named bare (<c>"dmedia-0"</c>), or a database on a peer reached over its key-pinned link
/// (<c>{"peer": "laptop", "db": "dmedia-0"}</c>, optional <c>"prefix"</c>, the peer's CouchDB
/// mount, default <c>/couch/</c>). A URL is never taken: where the server's replicator connects and
/// with which credential is the gateway's choice, not the caller's.
/// </summary>
public readonly record struct ReplicationEnd(string Database, string? Peer, string PeerPrefix)
{
    public const string DefaultPeerPrefix = "/couch/";

    public bool IsLocal => Peer is null;

    public override string ToString() => Peer is null ? Database : $"peer {Peer}: {Database}";

    internal static ReplicationEnd? Read(JsonElement json, string field, out string? error)
    {
        error = null;
        if (json.ValueKind == JsonValueKind.String)
        {
            var name = json.GetString()!;
            if (CouchDatabaseName.IsValid(name))
            {
                return new ReplicationEnd(name, null, DefaultPeerPrefix);
            }

            error = name.Contains("://", StringComparison.Ordinal)
                ? $"{field} must name a database here or a peer link ({{\"peer\": NAME, \"db\": DB}}), not a URL"
                : $"{field} is not a valid database name";
            return null;
        }

        if (json.ValueKind == JsonValueKind.Object)
        {
            string? peer = null, database = null, prefix = null;
            foreach (var property in json.EnumerateObject())
            {
                if (property.Name is not ("peer" or "db" or "prefix"))
                {
                    // url, headers, auth: CouchDB's own object form carries where to connect and
                    // with what credential; only the gateway chooses those.
                    error = $"{field}.{property.Name} is not accepted: an end is a database name or {{\"peer\": NAME, \"db\": DB}}";
                    return null;
                }

                if (property.Value.ValueKind != JsonValueKind.String)
                {
                    error = $"{field}.{property.Name} must be a string";
                    return null;
                }

                var value = property.Value.GetString()!;
                switch (property.Name)
                {
                    case "peer" when peer is null:
                        peer = value;
                        break;
                    case "db" when database is null:
                        database = value;
                        break;
                    case "prefix" when prefix is null:
                        prefix = value;
                        break;
                    default:
                        error = $"{field}.{property.Name} is given twice";
                        return null;
                }
            }

            if (peer is not { Length: > 0 } || database is null || !CouchDatabaseName.IsValid(database))
            {
                error = $"{field} must be {{\"peer\": NAME, \"db\": DB}} with a valid database name";
                return null;
            }

            prefix ??= DefaultPeerPrefix;
            if (!prefix.StartsWith('/') || !prefix.EndsWith('/') || prefix.Contains("..", StringComparison.Ordinal) || prefix.Any(c => c is '?' or '#' or '%' || char.IsControl(c)))
            {
                error = $"{field}.prefix must be a path like /couch/";
                return null;
            }

            return new ReplicationEnd(database, peer, prefix);
        }

        error = $"{field} must be a database name or {{\"peer\": NAME, \"db\": DB}}";
        return null;
    }
}
