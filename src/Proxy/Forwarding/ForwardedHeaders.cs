using System.Collections.Frozen;
using Gatehouse.Http1;

namespace Gatehouse.Proxy;

/// <summary>Which header fields cross the gateway, in one place (issue 3, RFC 9110 §7.6.1).</summary>
internal static class ForwardedHeaders
{
    /// <summary>
    /// Hop-by-hop fields: they describe one connection, never the message (RFC 9110 §7.6.1).
    /// HTTP2-Settings belongs to an h2c upgrade (RFC 7540 §3.2.1), which is never forwarded as one.
    /// </summary>
    public static readonly FrozenSet<string> HopByHop = FrozenSet.Create(
        StringComparer.OrdinalIgnoreCase,
        "Connection", "Keep-Alive", "Proxy-Connection", "TE", "Trailer", "Transfer-Encoding", "Upgrade",
        "Proxy-Authorization", "Proxy-Authenticate", "HTTP2-Settings");

    /// <summary>
    /// Client fields never sent upstream besides the hop-by-hop ones: credentials and identity
    /// (DESIGN.md decision 4: the gateway injects its own), CouchDB's vhost rewriting inputs, and
    /// the fields the gateway sets itself (Host, framing, Expect — 100-continue is answered here).
    /// </summary>
    private static readonly FrozenSet<string> ClientDropped = FrozenSet.Create(
        StringComparer.OrdinalIgnoreCase,
        "Authorization", "Cookie", "Forwarded", "x-couchdb-vhost-path", "x-couchdb-requested-path",
        KnownHeaderNames.Host, KnownHeaderNames.ContentLength, KnownHeaderNames.Expect);

    /// <summary>Families of client identity fields: proxy authentication, forwarding claims, the gateway's own.</summary>
    private static readonly string[] ClientDroppedPrefixes = ["X-Auth-CouchDB-", "X-Forwarded-", "X-Gatehouse-"];

    /// <summary>Response fields the client side re-frames itself (HttpResponse writes its own Date and framing).</summary>
    private static readonly FrozenSet<string> ResponseDropped = FrozenSet.Create(
        StringComparer.OrdinalIgnoreCase, KnownHeaderNames.ContentLength, KnownHeaderNames.Date);

    public static bool IsRequestFieldForwarded(string name, IReadOnlyList<string> connectionTokens, IList<KeyValuePair<string, string>> added, IReadOnlySet<string>? removed = null)
    {
        if (HopByHop.Contains(name) || ClientDropped.Contains(name) || IsNamedIn(name, connectionTokens) || removed?.Contains(name) == true)
        {
            return false;
        }

        foreach (var prefix in ClientDroppedPrefixes)
        {
            if (name.StartsWith(prefix, StringComparison.OrdinalIgnoreCase))
            {
                return false;
            }
        }

        // A field the gateway sets (any configured identity header) replaces the client's copy.
        // By index: foreach over the IList would box an enumerator for every request field.
        for (var i = 0; i < added.Count; i++)
        {
            if (string.Equals(added[i].Key, name, StringComparison.OrdinalIgnoreCase))
            {
                return false;
            }
        }

        return true;
    }

    public static bool IsResponseFieldForwarded(string name, IReadOnlyList<string> connectionTokens) =>
        !HopByHop.Contains(name) && !ResponseDropped.Contains(name) && !IsNamedIn(name, connectionTokens);

    /// <summary>The tokens of every Connection field of a request; a list is made only when there is one.</summary>
    public static IReadOnlyList<string> ConnectionTokens(RequestHeaders headers)
    {
        List<string>? tokens = null;
        for (var i = 0; i < headers.Count; i++)
        {
            var (name, value) = headers[i];
            if (!string.Equals(name, KnownHeaderNames.Connection, StringComparison.OrdinalIgnoreCase))
            {
                continue;
            }

            foreach (var range in value.AsSpan().Split(','))
            {
                var token = value.AsSpan(range).Trim(" \t");
                if (!token.IsEmpty)
                {
                    (tokens ??= []).Add(token.ToString());
                }
            }
        }

        return tokens ?? (IReadOnlyList<string>)[];
    }

    private static bool IsNamedIn(string name, IReadOnlyList<string> tokens)
    {
        for (var i = 0; i < tokens.Count; i++)
        {
            if (string.Equals(tokens[i], name, StringComparison.OrdinalIgnoreCase))
            {
                return true;
            }
        }

        return false;
    }
}
