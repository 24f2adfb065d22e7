using System.Globalization;
using System.Net;
using System.Net.Sockets;
using Gatehouse.Model;

namespace Gatehouse.Routing;

/// <summary>
/// Where a local replicator enters the peer links (issue 23 item 2): the plain loopback listener,
/// at the port it actually bound (a configured 0 is only known after start). Null until then, and
/// when the config has no such listener.
/// </summary>
internal sealed class PeerLinkEntrance
{
    private volatile Uri? _url;

    public Uri? Url => _url;

    /// <summary>Sets <see cref="Url"/> from the listeners as configured and as bound (same order).</summary>
    public void Bind(IReadOnlyList<Listener> listeners, IReadOnlyList<IPEndPoint> bound)
    {
        ArgumentNullException.ThrowIfNull(listeners);
        ArgumentNullException.ThrowIfNull(bound);
        var index = listeners.ToList().FindIndex(l => l.Local && !l.Tls);
        if (index < 0 || index >= bound.Count)
        {
            _url = null;
            return;
        }

        var address = bound[index].Address;
        var host = address.AddressFamily == AddressFamily.InterNetworkV6 ? $"[{address}]" : address.ToString();
        _url = new Uri($"http://{host}:{bound[index].Port.ToString(CultureInfo.InvariantCulture)}/");
    }
}
