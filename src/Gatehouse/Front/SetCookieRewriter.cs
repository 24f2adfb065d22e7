using System.Buffers;

namespace Gatehouse.Front;

/// <summary>
/// Rewrites a backend's <c>Set-Cookie</c> for the mount it is served under (issue 19), as nginx's
/// <c>proxy_cookie_path</c> / <c>proxy_cookie_domain</c> do. An app behind "/notebook/" (stripped)
/// that sets <c>Path=/</c> or <c>Path=/x</c> means its own root: the browser must get
/// <c>Path=/notebook/</c> or <c>/notebook/x</c>, else the cookie leaks to every app on the gateway
/// (<c>/</c>) or never comes back (<c>/x</c>). A <c>Domain</c> names the backend's host, which the
/// browser would refuse; dropped, the cookie binds to the host the client reached the gateway at.
/// Cookie name, value and other attributes pass byte for byte.
/// </summary>
internal sealed class SetCookieRewriter
{
    /// <summary>Rewrites shorter than this are built on the stack.</summary>
    private const int StackLimit = 512;

    private readonly string _publicPrefix;
    private readonly string _backendBasePath;
    private readonly bool _rewritePath;
    private readonly bool _dropDomain;

    /// <param name="backend">The route's backend URL; its path (<c>http://h:1/app/</c>) is the app's root.</param>
    /// <param name="publicPrefix">The mount prefix the forwarder stripped ("/notebook/"), or "" when none was.</param>
    /// <param name="rewritePath">Whether Path attributes move under the mount ("cookiePath": "rewrite").</param>
    /// <param name="dropDomain">Whether Domain attributes are removed ("cookieDomain": "drop").</param>
    public SetCookieRewriter(Uri backend, string publicPrefix, bool rewritePath, bool dropDomain)
    {
        _publicPrefix = publicPrefix.TrimEnd('/');
        _backendBasePath = backend.Scheme == "unix" ? string.Empty : backend.AbsolutePath.TrimEnd('/');
        _rewritePath = rewritePath && (_publicPrefix.Length > 0 || _backendBasePath.Length > 0);
        _dropDomain = dropDomain;
    }

    /// <summary>Whether this rewriter can change anything; a route where it cannot skips it.</summary>
    public bool IsActive => _rewritePath || _dropDomain;

    public static bool Applies(string fieldName) => fieldName.Equals(Name, StringComparison.OrdinalIgnoreCase);

    /// <summary>The field rewritten.</summary>
    public const string Name = "Set-Cookie";

    /// <summary>The value to send the client: <paramref name="value"/> itself (no allocation) when nothing changes.</summary>
    public string Rewrite(string value)
    {
        // Each attribute may grow by the mount (plus "/"): an upper bound for the rewritten text.
        var capacity = value.Length + (value.AsSpan().Count(';') * (_publicPrefix.Length + 1));
        char[]? rented = null;
        var buffer = capacity <= StackLimit ? stackalloc char[StackLimit] : (rented = ArrayPool<char>.Shared.Rent(capacity));
        try
        {
            var written = Rewrite(value, buffer, out var changed);
            return changed ? new string(buffer[..written]) : value;
        }
        finally
        {
            if (rented is not null)
            {
                ArrayPool<char>.Shared.Return(rented);
            }
        }
    }

    private int Rewrite(ReadOnlySpan<char> value, Span<char> output, out bool changed)
    {
        changed = false;
        var written = 0;
        var first = true;
        foreach (var range in value.Split(';'))
        {
            var segment = value[range];
            if (first)
            {
                // name=value: the app's own bytes, never looked into.
                Append(output, ref written, segment);
                first = false;
                continue;
            }

            var equals = segment.IndexOf('=');
            var name = (equals < 0 ? segment : segment[..equals]).Trim(" \t");
            if (_dropDomain && name.Equals("Domain", StringComparison.OrdinalIgnoreCase))
            {
                changed = true; // left out, with its ';'
                continue;
            }

            Append(output, ref written, ";");
            if (_rewritePath && equals >= 0 && name.Equals("Path", StringComparison.OrdinalIgnoreCase)
                && MapPath(segment[(equals + 1)..].Trim(" \t"), out var rest))
            {
                Append(output, ref written, segment[..(equals + 1)]);
                Append(output, ref written, _publicPrefix);
                Append(output, ref written, rest);
                changed = true;
                continue;
            }

            Append(output, ref written, segment);
        }

        return written;
    }

    /// <summary>
    /// The part of the backend's cookie path to put after the mount, or false to leave it: a path not
    /// starting with "/" means the default path to browsers (RFC 6265 §5.2.4), and one outside the
    /// backend's base path has no public name. A path above the base path ("/" for an app at
    /// "/app") covers the whole app, so it becomes the mount itself.
    /// </summary>
    private bool MapPath(ReadOnlySpan<char> path, out ReadOnlySpan<char> rest)
    {
        rest = default;
        if (path.IsEmpty || path[0] != '/')
        {
            return false;
        }

        var basePath = _backendBasePath.AsSpan();
        if (basePath.IsEmpty)
        {
            rest = path;
            return true;
        }

        if (path.StartsWith(basePath, StringComparison.Ordinal) && (path.Length == basePath.Length || path[basePath.Length] == '/'))
        {
            rest = path.Length == basePath.Length ? "/" : path[basePath.Length..];
            return true;
        }

        if (basePath.StartsWith(path, StringComparison.Ordinal) && (path[^1] == '/' || basePath[path.Length] == '/'))
        {
            rest = "/";
            return true;
        }

        return false;
    }

    private static void Append(Span<char> output, ref int written, ReadOnlySpan<char> text)
    {
        text.CopyTo(output[written..]);
        written += text.Length;
    }
}
