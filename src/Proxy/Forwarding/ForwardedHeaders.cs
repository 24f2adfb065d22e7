using System.Collections.Frozen;
using System.Text;
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
    /// (DESIGN.md decision 4: the gateway injects its own; a plan may let the client's Cookie and
    /// Authorization through, see <see cref="ClientCredentials"/>), CouchDB's vhost rewriting inputs,
    /// and the fields the gateway sets itself (Host, framing, Expect — 100-continue is answered here).
    /// </summary>
    private static readonly FrozenSet<string> ClientDropped = FrozenSet.Create(
        StringComparer.OrdinalIgnoreCase,
        "Authorization", "Cookie", "Forwarded", "x-couchdb-vhost-path", "x-couchdb-requested-path",
        KnownHeaderNames.Host, KnownHeaderNames.ContentLength, KnownHeaderNames.Expect);

    /// <summary>Families of client identity fields: proxy authentication, forwarding claims, the gateway's own.</summary>
    private static readonly string[] ClientDroppedPrefixes = ["X-Auth-CouchDB-", "X-Forwarded-", "X-Gatehouse-"];

    /// <summary>Response fields the client side re-frames itself (HttpResponse writes its own Date and framing).</summary>
    internal static readonly FrozenSet<string> ResponseDropped = FrozenSet.Create(
        StringComparer.OrdinalIgnoreCase, KnownHeaderNames.ContentLength, KnownHeaderNames.Date);

    /// <summary>The names of <see cref="HopByHop"/> and <see cref="ResponseDropped"/>, indexed by length.</summary>
    private static readonly string[][] ResponseDroppedByLength = ByLength([.. HopByHop, .. ResponseDropped]);

    // Span lookups into the sets, for the dashed reading of an underscore name (built on the stack).
    private static readonly FrozenSet<string>.AlternateLookup<ReadOnlySpan<char>> HopByHopBySpan = HopByHop.GetAlternateLookup<ReadOnlySpan<char>>();
    private static readonly FrozenSet<string>.AlternateLookup<ReadOnlySpan<char>> ClientDroppedBySpan = ClientDropped.GetAlternateLookup<ReadOnlySpan<char>>();

    /// <summary>Longest underscore name the opt-in reads with dashes (on the stack); a longer one is dropped.</summary>
    private const int MaxDashedName = 256;

    /// <summary>
    /// Whether a client field goes upstream. Besides the fixed and the plan's dropped names, a name
    /// holding <c>_</c> is dropped (issue 17 item 5): WSGI/CGI servers read <c>X_Gatehouse_User</c>
    /// as <c>X-Gatehouse-User</c>, so a client could forge what only the gateway may say (DESIGN.md
    /// decision 4, "in any spelling"). With <paramref name="allowUnderscore"/> (a route's opt-in)
    /// such a name passes unless, with <c>_</c> read as <c>-</c>, it is one the gateway sets or strips.
    /// </summary>
    public static bool IsRequestFieldForwarded(string name, IReadOnlyList<string> connectionTokens, IList<KeyValuePair<string, string>> added, IReadOnlySet<string>? removed = null, bool allowUnderscore = false, ClientCredentials passed = ClientCredentials.None)
    {
        if (!IsClientFieldAllowed(name, connectionTokens, added, removed, passed))
        {
            return false;
        }

        if (!name.Contains('_'))
        {
            return true;
        }

        if (allowUnderscore && name.Length <= MaxDashedName)
        {
            Span<char> dashed = stackalloc char[name.Length];
            name.AsSpan().Replace(dashed, '_', '-');
            // Never the credentials' passes: "Cookie"/"Authorization" hold no dash, so no underscore name reads as one.
            if (IsClientFieldAllowed(dashed, connectionTokens, added, removed, ClientCredentials.None))
            {
                return true;
            }
        }

        ProxyMetrics.UnderscoreHeadersDropped.Add(1);
        return false;
    }

    private static bool IsClientFieldAllowed(ReadOnlySpan<char> name, IReadOnlyList<string> connectionTokens, IList<KeyValuePair<string, string>> added, IReadOnlySet<string>? removed, ClientCredentials passed)
    {
        if (HopByHopBySpan.Contains(name) || (ClientDroppedBySpan.Contains(name) && !IsPassedCredential(name, passed)) || IsNamedIn(name, connectionTokens) || IsIn(name, removed))
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
            if (name.Equals(added[i].Key, StringComparison.OrdinalIgnoreCase))
            {
                return false;
            }
        }

        return true;
    }

    private static bool IsPassedCredential(ReadOnlySpan<char> name, ClientCredentials passed) =>
        passed != ClientCredentials.None
        && ((passed.HasFlag(ClientCredentials.Cookie) && name.Equals("Cookie", StringComparison.OrdinalIgnoreCase))
            || (passed.HasFlag(ClientCredentials.Authorization) && name.Equals(KnownHeaderNames.Authorization, StringComparison.OrdinalIgnoreCase)));

    /// <summary>The plan's set is a route's frozen set (span lookup); any other set is asked with a string.</summary>
    private static bool IsIn(ReadOnlySpan<char> name, IReadOnlySet<string>? set) => set switch
    {
        null => false,
        FrozenSet<string> frozen when frozen.TryGetAlternateLookup<ReadOnlySpan<char>>(out var lookup) => lookup.Contains(name),
        _ => set.Contains(name.ToString()),
    };

    public static bool IsResponseFieldForwarded(string name, IReadOnlyList<string> connectionTokens) =>
        !HopByHop.Contains(name) && !ResponseDropped.Contains(name) && !IsNamedIn(name, connectionTokens);

    /// <summary>
    /// The same for a name as it came from the upstream, compared as bytes against the names of
    /// <see cref="HopByHop"/> and <see cref="ResponseDropped"/> of its length only: a hashed lookup
    /// needed the name widened to chars first (issue 22).
    /// </summary>
    public static bool IsResponseFieldForwarded(ReadOnlySpan<byte> name, IReadOnlyList<string> connectionTokens)
    {
        if (name.Length < ResponseDroppedByLength.Length)
        {
            foreach (var dropped in ResponseDroppedByLength[name.Length])
            {
                if (Ascii.EqualsIgnoreCase(name, dropped))
                {
                    return false;
                }
            }
        }

        for (var i = 0; i < connectionTokens.Count; i++)
        {
            if (Ascii.EqualsIgnoreCase(name, connectionTokens[i]))
            {
                return false;
            }
        }

        return true;
    }

    private static string[][] ByLength(string[] names)
    {
        var table = new string[names.Max(name => name.Length) + 1][];
        for (var length = 0; length < table.Length; length++)
        {
            table[length] = [.. names.Where(name => name.Length == length)];
        }

        return table;
    }

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

    private static bool IsNamedIn(ReadOnlySpan<char> name, IReadOnlyList<string> tokens)
    {
        for (var i = 0; i < tokens.Count; i++)
        {
            if (name.Equals(tokens[i], StringComparison.OrdinalIgnoreCase))
            {
                return true;
            }
        }

        return false;
    }
}
