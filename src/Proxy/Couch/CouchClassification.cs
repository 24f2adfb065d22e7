namespace Gatehouse.Proxy;

/// <summary>
/// What an endpoint is: its primary access class, the database it touches (null for server-level
/// endpoints) and a short reason for logs and 403 bodies.
/// </summary>
/// <remarks>
/// A few endpoints serve two classes (issue 3 lists them under both): a replication checkpoint in
/// <c>_local</c> and <c>GET /db</c> are used by pull and push replication alike, and a plain
/// document GET is both a read and a replication fetch. <see cref="AlsoGrantedBy"/> names the
/// second class; <see cref="IsGrantedBy"/> is the one check a policy needs.
/// </remarks>
public readonly record struct CouchClassification(CouchAccess Access, string? Database, string Reason)
{
    /// <summary>A second class that also grants this endpoint, or <see cref="CouchAccess.Denied"/> when none.</summary>
    public CouchAccess AlsoGrantedBy { get; init; }

    /// <summary>How the body must be read before it may reach CouchDB without the design grant (issue 17).</summary>
    public CouchBodyInspection Inspect { get; init; }

    public bool IsDenied => Access == CouchAccess.Denied;

    /// <summary>Refused as malformed (400) rather than forbidden (403): a query parameter the endpoint does not take.</summary>
    public bool IsBadRequest { get; init; }

    /// <summary>Refused as CouchDB itself would, 404 <c>not_found</c>: a path that names nothing there (a <c>_local</c> attachment).</summary>
    public bool IsNotFound { get; init; }

    /// <summary>The endpoint passes query parameters it does not know to design code (a design filter's <c>req.query</c>).</summary>
    public bool PassesUnknownParameters { get; init; }

    /// <summary>The query parameter names this endpoint accepts; null accepts none.</summary>
    public System.Collections.Frozen.FrozenSet<string>? Parameters { get; init; }

    /// <summary>A feed that holds its upstream connection until a change or a timeout (continuous, longpoll, eventsource).</summary>
    public bool IsLongLived { get; init; }

    /// <summary>The query to forward, rebuilt from the judged parameters (without '?'); null for none.</summary>
    public string? ForwardQuery { get; init; }

    /// <summary>True when any of <paramref name="granted"/> opens this endpoint. Denied endpoints are never granted.</summary>
    public bool IsGrantedBy(IEnumerable<CouchAccess> granted)
    {
        ArgumentNullException.ThrowIfNull(granted);
        if (Access == CouchAccess.Denied)
        {
            return false;
        }

        foreach (var access in granted)
        {
            if (access != CouchAccess.Denied && (access == Access || access == AlsoGrantedBy))
            {
                return true;
            }
        }

        return false;
    }
}
