using System.Net;
using System.Net.Sockets;

namespace Gatehouse.Proxy;

/// <summary>
/// One upstream node: where to connect, what to put in Host, and its health. A node that refused
/// a connection is skipped until <see cref="UpstreamOptions.NodeRetryAfter"/> has passed (issue 3).
/// </summary>
internal sealed class UpstreamNode
{
    private long _downUntil; // Environment.TickCount64 ms; 0 = healthy

    private readonly string _display;

    private UpstreamNode(Uri? uri, EndPoint endPoint, string authority, string basePath, UpstreamTls? tls = null)
    {
        Uri = uri;
        EndPoint = endPoint;
        Authority = authority;
        BasePath = basePath;
        Tls = tls;
        _display = uri?.ToString() ?? "https://" + UpstreamAddress.Display(endPoint);
    }

    /// <summary>The configured URL; null for a TLS peer address (its zone would not survive a <see cref="System.Uri"/>).</summary>
    public Uri? Uri { get; }

    /// <summary>Set for a TLS upstream (a peer Gatehouse, issue 8): speak TLS and trust the server only by these pins.</summary>
    public UpstreamTls? Tls { get; }

    public EndPoint EndPoint { get; }

    /// <summary>The Host value the node expects: its own authority, e.g. <c>127.0.0.1:5984</c> or <c>[::1]:5984</c>.</summary>
    public string Authority { get; }

    /// <summary>A path the node is mounted under (<c>http://host/couch/</c> → <c>/couch</c>), or empty.</summary>
    public string BasePath { get; }

    public bool IsUnixSocket => EndPoint is UnixDomainSocketEndPoint;

    public bool IsHealthy => Volatile.Read(ref _downUntil) <= Environment.TickCount64;

    public long DownUntil => Volatile.Read(ref _downUntil);

    public void MarkDown(TimeSpan retryAfter) =>
        Volatile.Write(ref _downUntil, Environment.TickCount64 + (long)retryAfter.TotalMilliseconds);

    public void MarkUp() => Volatile.Write(ref _downUntil, 0);

    /// <summary>Accepts <c>http://</c> URLs (IPv4, bracketed IPv6, or a host name) and <c>unix:/path/to.sock</c>.</summary>
    public static UpstreamNode FromUri(Uri uri)
    {
        ArgumentNullException.ThrowIfNull(uri);
        if (!uri.IsAbsoluteUri)
        {
            throw new ArgumentException($"upstream '{uri}' must be an absolute URL", nameof(uri));
        }

        if (uri.Scheme == "unix")
        {
            var path = Uri.UnescapeDataString(uri.AbsolutePath);
            if (path.Length == 0 || path[0] != '/')
            {
                throw new ArgumentException($"upstream '{uri}' must name an absolute socket path", nameof(uri));
            }

            // A Unix socket has no authority; "localhost" is what web apps behind one expect.
            return new UpstreamNode(uri, new UnixDomainSocketEndPoint(path), "localhost", string.Empty);
        }

        if (uri.Scheme != Uri.UriSchemeHttp)
        {
            throw new ArgumentException($"upstream '{uri}' must be http:// or unix: (TLS upstreams are not supported)", nameof(uri));
        }

        if (!string.IsNullOrEmpty(uri.UserInfo) || !string.IsNullOrEmpty(uri.Query) || !string.IsNullOrEmpty(uri.Fragment))
        {
            throw new ArgumentException($"upstream '{uri}' may not carry credentials, a query or a fragment", nameof(uri));
        }

        EndPoint endPoint = uri.HostNameType switch
        {
            UriHostNameType.IPv4 or UriHostNameType.IPv6 => new IPEndPoint(IPAddress.Parse(uri.DnsSafeHost), uri.Port),
            _ => new DnsEndPoint(uri.DnsSafeHost, uri.Port),
        };

        var basePath = uri.AbsolutePath.TrimEnd('/');
        return new UpstreamNode(uri, endPoint, uri.Authority, basePath);
    }

    /// <summary>A TLS node at <paramref name="endPoint"/> (an <see cref="IPEndPoint"/>, zone included, or a <see cref="DnsEndPoint"/>).</summary>
    public static UpstreamNode ForTls(EndPoint endPoint, UpstreamTls tls)
    {
        ArgumentNullException.ThrowIfNull(endPoint);
        ArgumentNullException.ThrowIfNull(tls);
        return new UpstreamNode(uri: null, endPoint, UpstreamAddress.Authority(endPoint), string.Empty, tls);
    }

    public override string ToString() => _display;
}
