using Gatehouse.Http1;

namespace Gatehouse.Proxy;

/// <summary>
/// The checks on a CouchDB write's head that come before its body is read for design ids (issue 17
/// item 2), for a caller without the design grant: the body must be bytes the scanner reads the way
/// the server will, and no query parameter may name the id instead.
/// </summary>
public static class DesignWriteGuard
{
    /// <summary>The refusal for <paramref name="request"/>'s head, or null when it may go on.</summary>
    public static RequestRejectedException? CheckHead(Request request, CouchBodyInspection kind)
    {
        ArgumentNullException.ThrowIfNull(request);
        if (kind == CouchBodyInspection.None)
        {
            return null;
        }

        // pouchdb-server's PUT /db/{id} takes ?id= when the body has no _id (CouchDB ignores it).
        // The endpoint table refuses id= anyway (not a parameter of any write); this stays as a second line.
        foreach (var (name, value) in CouchQuery.Parse(request.Target.Query) ?? [])
        {
            if (name == "id" && DesignDocumentScanner.IsDesignId(value))
            {
                return new RequestRejectedException(RejectReason.BodyForbidden, "design document named by ?id= needs the design grant");
            }
        }

        if (!request.HasBody)
        {
            return null;
        }

        // Both servers inflate gzip, and pouchdb-server (body-parser) deflate too; it also decodes any
        // "utf-*" charset (utf-7 spells "_" as "+AF8-"). The scanner reads UTF-8 JSON as sent, nothing else.
        foreach (var coding in request.Headers.GetValues("Content-Encoding"))
        {
            if (!coding.Trim().Equals("identity", StringComparison.OrdinalIgnoreCase))
            {
                return Unsupported($"Content-Encoding {coding} cannot be inspected for design documents");
            }
        }

        return request.Headers.CountOf("Content-Type") switch
        {
            0 => null,
            1 => IsUtf8OrUnstated(request.Headers["Content-Type"]!) ? null : Unsupported("only UTF-8 JSON bodies can be inspected for design documents"),
            _ => Unsupported("more than one Content-Type"),
        };
    }

    /// <summary>
    /// False for a <c>multipart/related</c> document PUT (the CouchDB replicator's write with
    /// attachments): CouchDB takes its id from the URL, and the JSON inside is not read here.
    /// </summary>
    public static bool ReadsBody(Request request, CouchBodyInspection kind)
    {
        ArgumentNullException.ThrowIfNull(request);
        if (kind == CouchBodyInspection.None || !request.HasBody)
        {
            return false;
        }

        return !(request.Method == HttpMethods.Put
            && request.Headers["Content-Type"] is { } type
            && type.TrimStart().StartsWith("multipart/related", StringComparison.OrdinalIgnoreCase));
    }

    private static bool IsUtf8OrUnstated(string contentType)
    {
        foreach (var range in contentType.AsSpan().Split(';'))
        {
            var parameter = contentType.AsSpan(range).Trim();
            var equals = parameter.IndexOf('=');
            if (equals < 0 || !parameter[..equals].TrimEnd().Equals("charset", StringComparison.OrdinalIgnoreCase))
            {
                continue;
            }

            var value = parameter[(equals + 1)..].Trim().Trim('"');
            if (!value.Equals("utf-8", StringComparison.OrdinalIgnoreCase) && !value.Equals("utf8", StringComparison.OrdinalIgnoreCase))
            {
                return false;
            }
        }

        return true;
    }

    private static RequestRejectedException Unsupported(string why) => new(RejectReason.UnsupportedBodyEncoding, why);
}
