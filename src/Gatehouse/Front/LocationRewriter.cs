using System.Net;

namespace Gatehouse.Front;

/// <summary>
/// Rewrites <c>Location</c> and <c>Content-Location</c> that point at the backend into the public
/// origin and mount (what Pound's RewriteLocation does; issue 5). A backend on 127.0.0.1:4334
/// behind the mount "/blog/" that redirects to <c>http://127.0.0.1:4334/login</c> or to
/// <c>/login</c> sends the browser to <c>https://PUBLIC-HOST/blog/login</c> or <c>/blog/login</c>.
/// Anything else (other hosts, relative references) passes unchanged.
/// </summary>
internal sealed class LocationRewriter
{
    private readonly string[] _backendOrigins;
    private readonly string _backendBasePath;
    private readonly string _publicPrefix;

    /// <param name="backend">The route's backend URL (<c>http://…</c> or <c>unix:/…</c>).</param>
    /// <param name="publicPrefix">The mount prefix the forwarder stripped ("/blog/"), or "" when none was.</param>
    public LocationRewriter(Uri backend, string publicPrefix)
    {
        _publicPrefix = publicPrefix.TrimEnd('/');
        if (backend.Scheme == "unix")
        {
            // The forwarder sends "Host: localhost" to a Unix-socket backend; that is the origin it knows.
            _backendOrigins = ["http://localhost"];
            _backendBasePath = string.Empty;
            return;
        }

        _backendBasePath = backend.AbsolutePath.TrimEnd('/');
        var hosts = new List<string> { backend.Host };
        if (IPAddress.TryParse(backend.Host.Trim('[', ']'), out var address) && IPAddress.IsLoopback(address) || backend.Host == "localhost")
        {
            // A loopback app often names itself by another loopback spelling than the one configured.
            hosts.AddRange(["localhost", "127.0.0.1", "[::1]"]);
        }

        var origins = new List<string>();
        foreach (var host in hosts.Distinct(StringComparer.OrdinalIgnoreCase))
        {
            origins.Add($"http://{host}:{backend.Port}");
            if (backend.Port == 80)
            {
                origins.Add($"http://{host}");
            }
        }

        // Longest first: "http://host:80" must win over "http://host".
        _backendOrigins = [.. origins.OrderByDescending(o => o.Length)];
    }

    public static bool Applies(string fieldName) =>
        fieldName.Equals(Names[0], StringComparison.OrdinalIgnoreCase) || fieldName.Equals(Names[1], StringComparison.OrdinalIgnoreCase);

    /// <summary>The fields rewritten.</summary>
    public static IReadOnlyList<string> Names { get; } = ["Location", "Content-Location"];

    /// <param name="value">The backend's field value.</param>
    /// <param name="publicOrigin"><c>https://host[:port]</c> as the client reached us, or null when unknown.</param>
    public string Rewrite(string value, string? publicOrigin)
    {
        string path;
        var absolute = false;
        var origin = _backendOrigins.FirstOrDefault(o => value.StartsWith(o, StringComparison.OrdinalIgnoreCase) && (value.Length == o.Length || value[o.Length] is '/' or '?' or '#'));
        if (origin is not null)
        {
            path = value[origin.Length..];
            if (!path.StartsWith('/'))
            {
                path = "/" + path;
            }

            absolute = true;
        }
        else if (value.StartsWith('/') && !value.StartsWith("//", StringComparison.Ordinal))
        {
            path = value;
        }
        else
        {
            return value;
        }

        if (_backendBasePath.Length > 0)
        {
            if (!path.StartsWith(_backendBasePath, StringComparison.Ordinal) || (path.Length > _backendBasePath.Length && path[_backendBasePath.Length] is not ('/' or '?' or '#')))
            {
                return value; // outside the backend's mounted path: no public name for it
            }

            path = path[_backendBasePath.Length..];
            if (!path.StartsWith('/'))
            {
                path = "/" + path;
            }
        }

        path = _publicPrefix + path;
        return absolute && publicOrigin is not null ? publicOrigin + path : path;
    }
}
