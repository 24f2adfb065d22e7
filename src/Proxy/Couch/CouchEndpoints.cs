using System.Runtime.InteropServices;
using Gatehouse.Http1;

namespace Gatehouse.Proxy;

/// <summary>
/// The one table of CouchDB endpoints (issue 3, DESIGN.md decision 3): an allowlist over the
/// <em>decoded</em> segments that the policy judged and the forwarder re-serializes, so
/// <c>%5Fconfig</c>, <c>_design%2Fx</c> and mixed encodings land on the same row as their plain
/// spelling. Anything not named here is <see cref="CouchAccess.Denied"/>.
/// </summary>
/// <remarks>
/// Rows, by path after the mount prefix (HEAD is read like GET):
/// <code>
/// GET /                                  ServerInfo
/// GET /_all_dbs                          AllDbs (answered by the gateway, filtered)
/// POST /_replicate                      Replicate (body judged and rewritten: ReplicationRequest)
/// PUT|GET|DELETE /_replicator/{id}       Replicate (a PUT judged as _replicate; GET, DELETE its creator's only)
/// GET /_anything-else, any /_…           Denied (server endpoints: _config, _node, _users, _session, _replicator …)
/// GET  /db                               Pull (also Push: a replicator reads the target's info)
/// PUT  /db                               Create
/// POST /db                               Write (new document with a server id)
/// DELETE /db                             Denied
/// GET|POST /db/_changes                  Pull; filter= only _doc_ids or _selector; no view=
/// GET|POST /db/_all_docs, POST _bulk_get Pull
/// GET|PUT /db/_local/{id}                Pull (also Push: both sides keep checkpoints)
/// POST /db/_revs_diff, _bulk_docs, _missing_revs, _ensure_full_commit   Push
/// GET  /db/{id}?revs|open_revs|latest|atts_since   Pull (also Read)
/// GET  /db/{id}, /db/{id}/{att}          Read (also Pull)
/// PUT  /db/{id}?new_edits=false          Push
/// PUT|POST|DELETE /db/{id}, PUT|DELETE /db/{id}/{att}   Write
/// GET  /db/_design/{name}[/{att}]        Read (also Pull)
/// PUT  /db/_design/{name}                Design (its own grant, issue 7); DELETE it, PUT|DELETE its
///                                        attachments: Design too (issue 17); new_edits=false, POST
///                                        and /_show, /_list, /_update, /_rewrite, /_view … Denied
/// POST /db, PUT /db/{id}, PUT _local/{id}, POST _bulk_docs   body read for design ids without the design grant
/// every other /db/_… (_security, _purge, _compact, _view_cleanup, _revs_limit, _index, _find …) Denied
/// </code>
/// Also denied everywhere: methods other than GET/HEAD/POST/PUT/DELETE (COPY included), a
/// <c>callback=</c> query parameter (JSONP), and database names outside CouchDB's rule.
/// </remarks>
public static class CouchEndpoints
{
    private static readonly string[] ReplicationReadParameters = ["revs", "open_revs", "latest", "atts_since"];

    /// <summary>Classifies one request. <paramref name="segments"/> are the decoded path segments after the mount prefix.</summary>
    public static CouchClassification Classify(string method, ReadOnlySpan<string> segments, string? query)
    {
        ArgumentNullException.ThrowIfNull(method);

        var verb = ToVerb(method);
        if (verb == Verb.Other)
        {
            return Deny(null, $"method {method} is not allowed");
        }

        var parameters = CouchQuery.Parse(query);
        if (parameters is null)
        {
            return BadRequest(null, "query parameters must be UTF-8");
        }

        foreach (var (name, _) in parameters)
        {
            // JSONP turns any GET into a cross-origin read (CouchDB allow_jsonp).
            if (name.Equals("callback", StringComparison.OrdinalIgnoreCase))
            {
                return Deny(null, "callback= (JSONP) is not allowed");
            }
        }

        var row = ClassifyPath(verb, segments, parameters);
        if (row.IsDenied)
        {
            return row;
        }

        // Judged by name, then forwarded as rebuilt from what was judged (issue 17).
        var refusal = CouchQuery.Judge(parameters, row.Parameters ?? CouchParameters.None, row.PassesUnknownParameters, out var forward);
        return refusal is null ? row with { ForwardQuery = forward } : BadRequest(row.Database, refusal);
    }

    private static CouchClassification ClassifyPath(Verb verb, ReadOnlySpan<string> segments, List<(string Name, string Value)> parameters)
    {
        if (segments.IsEmpty)
        {
            return verb == Verb.Get ? new(CouchAccess.ServerInfo, null, "server info") { Parameters = CouchParameters.Reads } : Deny(null, "only GET on /");
        }

        var first = segments[0];
        if (first.StartsWith('_'))
        {
            if (first == "_all_dbs" && segments.Length == 1 && verb == Verb.Get)
            {
                return new(CouchAccess.AllDbs, null, "database list") { Parameters = CouchParameters.AllDbs };
            }

            if (first == "_replicate" && segments.Length == 1 && verb == Verb.Post)
            {
                return new(CouchAccess.Replicate, null, "replication") { IsLongLived = true };
            }

            // One replication document by id (its design document, _local and listings stay closed).
            if (first == "_replicator" && segments.Length == 2 && IsReplicatorDocumentId(segments[1]))
            {
                switch (verb)
                {
                    case Verb.Put:
                        return new(CouchAccess.Replicate, null, "replication document");
                    case Verb.Get:
                        return new(CouchAccess.Replicate, null, "replication document") { Parameters = CouchParameters.Reads };
                    case Verb.Delete:
                        return new(CouchAccess.Replicate, null, "replication document delete") { Parameters = CouchParameters.ReplicatorDelete };
                }
            }

            return Deny(null, $"server endpoint {first} is closed");
        }

        if (!CouchDatabaseName.IsValid(first))
        {
            return Deny(null, "invalid database name");
        }

        var rest = Flatten(segments[1..]);
        if (rest.Contains(string.Empty))
        {
            return Deny(first, "empty path segment");
        }

        return rest.IsEmpty
            ? ClassifyDatabase(verb, first)
            : ClassifyInDatabase(verb, first, rest, parameters);
    }

    private static bool IsReplicatorDocumentId(string id) =>
        id.Length is > 0 and <= 256 && !id.StartsWith('_') && !id.Any(char.IsControl);

    private static CouchClassification ClassifyDatabase(Verb verb, string db) => verb switch
    {
        Verb.Get => new(CouchAccess.Pull, db, "database info") { AlsoGrantedBy = CouchAccess.Push, Parameters = CouchParameters.Reads },
        Verb.Put => new(CouchAccess.Create, db, "create database") { Parameters = CouchParameters.CreateDatabase },
        Verb.Post => new(CouchAccess.Write, db, "new document") { Parameters = CouchParameters.NewDocument, Inspect = CouchBodyInspection.Document },
        _ => new(CouchAccess.Delete, db, "delete database"),
    };

    private static CouchClassification ClassifyInDatabase(Verb verb, string db, ReadOnlySpan<string> rest, List<(string Name, string Value)> parameters)
    {
        var head = rest[0];
        if (!head.StartsWith('_'))
        {
            return ClassifyDocument(verb, db, rest, parameters);
        }

        var single = rest.Length == 1;
        switch (head)
        {
            case "_changes" when single && verb is Verb.Get or Verb.Post:
                return ClassifyChanges(db, parameters);
            case "_all_docs" when single && verb is Verb.Get or Verb.Post:
                return new(CouchAccess.Pull, db, "all documents") { Parameters = CouchParameters.AllDocs };
            case "_bulk_get" when single && verb == Verb.Post:
                return new(CouchAccess.Pull, db, "bulk get") { Parameters = CouchParameters.BulkGet };
            case "_revs_diff" when single && verb == Verb.Post:
                return new(CouchAccess.Push, db, "revs diff");
            case "_missing_revs" when single && verb == Verb.Post:
                return new(CouchAccess.Push, db, "missing revs");
            case "_bulk_docs" when single && verb == Verb.Post:
                return new(CouchAccess.Push, db, "bulk docs") { Inspect = CouchBodyInspection.BulkDocs };
            case "_ensure_full_commit" when single && verb == Verb.Post:
                return new(CouchAccess.Push, db, "ensure full commit");
            case "_local":
                return ClassifyLocal(verb, db, rest);
            case "_design":
                return ClassifyDesign(verb, db, rest, parameters);
            case "_find" or "_explain" when single && verb == Verb.Post:
                return new(CouchAccess.Query, db, "mango query") { Parameters = CouchParameters.None };
            case "_compact" when rest.Length <= 2 && verb == Verb.Post:
                return new(CouchAccess.Maintain, db, rest.Length == 1 ? "compaction" : "view compaction");
            case "_view_cleanup" when single && verb == Verb.Post:
                return new(CouchAccess.Maintain, db, "view cleanup");
            default:
                return Deny(db, $"database endpoint {head} is closed");
        }
    }

    private static CouchClassification ClassifyChanges(string db, List<(string Name, string Value)> parameters)
    {
        var runsDesignCode = false;
        foreach (var (name, value) in parameters)
        {
            // A design filter or a view runs design-document code on the server (the query grant,
            // issue 23); the built-in filters do not.
            if (name == "filter" && value is not ("_doc_ids" or "_selector" or "_design"))
            {
                if (value != "_view" && !IsDesignFunctionName(value))
                {
                    return Deny(db, "changes filter must be _doc_ids, _selector, _design, _view or ddoc/name");
                }

                runsDesignCode = true;
            }

            if (name == "view")
            {
                runsDesignCode = true;
            }
        }

        // Other names pass (rebuilt like the rest): CouchDB's changes parser reads only the names in
        // CouchParameters.Changes, which are judged above, and hands every parameter to a design
        // filter as req.query; PouchDB sends a filter's query_params on the plain feed too, when it
        // runs a function filter itself.
        return runsDesignCode
            ? new(CouchAccess.Query, db, "changes filtered by design code") { Parameters = CouchParameters.Changes, IsLongLived = IsHeldOpen(parameters), PassesUnknownParameters = true }
            : new(CouchAccess.Pull, db, "changes feed") { Parameters = CouchParameters.Changes, IsLongLived = IsHeldOpen(parameters), PassesUnknownParameters = true };
    }

    /// <summary><c>ddoc/name</c>: a design document's function, named as CouchDB's filter= takes it.</summary>
    private static bool IsDesignFunctionName(string value)
    {
        var slash = value.IndexOf('/', StringComparison.Ordinal);
        return slash > 0 && slash < value.Length - 1 && value.IndexOf('/', slash + 1) < 0;
    }

    private static bool IsHeldOpen(List<(string Name, string Value)> parameters)
    {
        foreach (var (name, value) in parameters)
        {
            if (name == "feed" && value is "continuous" or "longpoll" or "eventsource")
            {
                return true;
            }
        }

        return false;
    }

    private static CouchClassification ClassifyLocal(Verb verb, string db, ReadOnlySpan<string> rest)
    {
        if (rest.Length > 2)
        {
            // CouchDB's answer: a _local document has no attachments, so the path names nothing.
            return new(CouchAccess.Denied, db, "missing") { IsNotFound = true };
        }

        if (rest.Length != 2)
        {
            return Deny(db, "malformed _local path");
        }

        return verb switch
        {
            Verb.Get => new(CouchAccess.Pull, db, "replication checkpoint") { AlsoGrantedBy = CouchAccess.Push, Parameters = CouchParameters.Local },
            Verb.Put => new(CouchAccess.Pull, db, "replication checkpoint write") { AlsoGrantedBy = CouchAccess.Push, Parameters = CouchParameters.Local, Inspect = CouchBodyInspection.Document },
            // Replicators clean their checkpoints up this way.
            Verb.Delete => new(CouchAccess.Push, db, "replication checkpoint delete") { AlsoGrantedBy = CouchAccess.Write, Parameters = CouchParameters.Local },
            _ => Deny(db, "only GET and PUT on _local documents"),
        };
    }

    private static CouchClassification ClassifyDesign(Verb verb, string db, ReadOnlySpan<string> rest, List<(string Name, string Value)> parameters)
    {
        if (rest.Length < 2 || rest[1].StartsWith('_'))
        {
            return Deny(db, "malformed design document path");
        }

        // A replicator's new_edits=false PUT would ship code under the push grant's cover: closed.
        if (verb == Verb.Put && rest.Length == 2 && !HasValue(parameters, "new_edits", "false"))
        {
            return new(CouchAccess.Design, db, "design document write") { Parameters = CouchParameters.DocumentDelete };
        }

        if (rest.Length == 4 && rest[2] == "_view" && verb is Verb.Get or Verb.Post && !rest[3].StartsWith('_'))
        {
            return new(CouchAccess.Query, db, "view query") { Parameters = CouchParameters.View };
        }

        for (var i = 2; i < rest.Length; i++)
        {
            // _show, _list, _update, _rewrite, _info, _search …: server-side functions.
            if (rest[i].StartsWith('_'))
            {
                return Deny(db, $"design function {rest[i]} is closed");
            }
        }

        // Deleting a design document, or writing its attachments, changes server code as much as writing it.
        if (verb == Verb.Delete || (verb == Verb.Put && rest.Length > 2))
        {
            return new(CouchAccess.Design, db, rest.Length == 2 ? "design document delete" : "design document attachment write")
            {
                Parameters = rest.Length == 2 ? CouchParameters.DocumentDelete : CouchParameters.AttachmentWrite,
            };
        }

        if (verb != Verb.Get)
        {
            return Deny(db, "only GET, and PUT or DELETE with the design grant, on design documents");
        }

        return rest.Length == 2
            ? new(CouchAccess.Read, db, "design document") { AlsoGrantedBy = CouchAccess.Pull, Parameters = CouchParameters.DocumentRead }
            : new(CouchAccess.Read, db, "design document attachment") { AlsoGrantedBy = CouchAccess.Pull, Parameters = CouchParameters.AttachmentRead };
    }

    private static CouchClassification ClassifyDocument(Verb verb, string db, ReadOnlySpan<string> rest, List<(string Name, string Value)> parameters)
    {
        for (var i = 1; i < rest.Length; i++)
        {
            if (rest[i].StartsWith('_'))
            {
                return Deny(db, "attachment names may not start with '_'");
            }
        }

        var isAttachment = rest.Length > 1;
        switch (verb)
        {
            case Verb.Get when isAttachment:
                return new(CouchAccess.Read, db, "attachment") { AlsoGrantedBy = CouchAccess.Pull, Parameters = CouchParameters.AttachmentRead };
            case Verb.Get when HasAny(parameters, ReplicationReadParameters):
                return new(CouchAccess.Pull, db, "document revisions") { AlsoGrantedBy = CouchAccess.Read, Parameters = CouchParameters.DocumentRead };
            case Verb.Get:
                return new(CouchAccess.Read, db, "document") { AlsoGrantedBy = CouchAccess.Pull, Parameters = CouchParameters.DocumentRead };
            case Verb.Put when !isAttachment && HasValue(parameters, "new_edits", "false"):
                return new(CouchAccess.Push, db, "replicated document") { Parameters = CouchParameters.DocumentWrite, Inspect = CouchBodyInspection.Document };
            case Verb.Put or Verb.Delete when isAttachment:
                return new(CouchAccess.Write, db, "attachment write") { Parameters = CouchParameters.AttachmentWrite };
            case Verb.Put:
                return new(CouchAccess.Write, db, "document write") { Parameters = CouchParameters.DocumentWrite, Inspect = CouchBodyInspection.Document };
            case Verb.Delete:
                return new(CouchAccess.Write, db, "document delete") { Parameters = CouchParameters.DocumentDelete };
            case Verb.Post when !isAttachment:
                return new(CouchAccess.Write, db, "document write") { Parameters = CouchParameters.NewDocument };
            default:
                return Deny(db, "method not allowed on an attachment");
        }
    }

    /// <summary>
    /// The segments after the database, with a %2F-encoded <c>_design/x</c> or <c>_local/x</c>
    /// split the way the plain spelling arrives, so both reach the same row. A design path is split
    /// at every '/', so <c>_design%2Fx%2F_show%2Fy</c> cannot hide a function behind one segment; a
    /// <c>_local</c> id is split once (it has no sub-resources, and an id may hold '/').
    /// </summary>
    /// <remarks>Most paths have nothing to split: they are returned as they came, without a copy.</remarks>
    private static ReadOnlySpan<string> Flatten(ReadOnlySpan<string> segments)
    {
        var split = 0;
        while (split < segments.Length && !NeedsSplit(segments[split]))
        {
            split++;
        }

        if (split == segments.Length)
        {
            return segments;
        }

        var rest = new List<string>(segments.Length + 2);
        rest.AddRange(segments[..split]);
        foreach (var segment in segments[split..])
        {
            if (segment.StartsWith("_design/", StringComparison.Ordinal))
            {
                rest.AddRange(segment.Split('/'));
            }
            else if (segment.StartsWith("_local/", StringComparison.Ordinal))
            {
                rest.Add("_local");
                rest.Add(segment["_local/".Length..]);
            }
            else
            {
                rest.Add(segment);
            }
        }

        return CollectionsMarshal.AsSpan(rest);
    }

    private static bool NeedsSplit(string segment) =>
        segment.StartsWith("_design/", StringComparison.Ordinal) || segment.StartsWith("_local/", StringComparison.Ordinal);

    private static bool HasAny(List<(string Name, string Value)> parameters, string[] names)
    {
        foreach (var (name, _) in parameters)
        {
            if (Array.IndexOf(names, name) >= 0)
            {
                return true;
            }
        }

        return false;
    }

    private static bool HasValue(List<(string Name, string Value)> parameters, string name, string value)
    {
        foreach (var pair in parameters)
        {
            if (pair.Name == name && pair.Value == value)
            {
                return true;
            }
        }

        return false;
    }

    private static CouchClassification Deny(string? db, string reason) => new(CouchAccess.Denied, db, reason);

    private static CouchClassification BadRequest(string? db, string reason) => new(CouchAccess.Denied, db, reason) { IsBadRequest = true };

    private static Verb ToVerb(string method) => method switch
    {
        HttpMethods.Get or HttpMethods.Head => Verb.Get,
        HttpMethods.Put => Verb.Put,
        HttpMethods.Post => Verb.Post,
        HttpMethods.Delete => Verb.Delete,
        _ => Verb.Other,
    };

    private enum Verb
    {
        Other,
        Get,
        Put,
        Post,
        Delete,
    }
}
