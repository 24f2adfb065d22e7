using System.Net;
using Gatehouse.Discovery;
using Gatehouse.Observability;
using Gatehouse.Wire;

namespace Gatehouse.Hosting;

/// <summary>
/// Discovery on the local link (issue 21 item 1): started with the listeners when the config has
/// an enabled <c>discovery</c> section, stopped (with a goodbye) before they stop. It announces the
/// first TLS listener that is not on loopback, and feeds the peer links the addresses where a known
/// pin was heard. Its settings, like the listeners', change only with a restart.
/// </summary>
public sealed partial class GatehouseServer
{
    private LinkDiscovery? _discovery;

    /// <summary>The running discovery, or null when it is off.</summary>
    internal LinkDiscovery? Discovery => Volatile.Read(ref _discovery);

    private void StartDiscovery()
    {
        if (_model.Source.Discovery is not { Enabled: true } settings || Identity is null)
        {
            return;
        }

        var announced = Enumerable.Range(0, Math.Min(_model.Listeners.Count, BoundEndpoints.Count))
            .Where(i => _model.Listeners[i].Tls && !IPAddress.IsLoopback(BoundEndpoints[i].Address))
            .Select(i => (Address: ListenEndpoint.ParseAddress(_model.Listeners[i].Address), BoundEndpoints[i].Port))
            .FirstOrDefault((Address: IPAddress.IPv6Any, Port: 0));
        var options = new DiscoveryOptions(
            settings.Name ?? DeviceName.Default(),
            Pin,
            announced.Port,
            announced.Address,
            settings.Announce && announced.Port != 0,
            settings.Interfaces);
        var discovery = new LinkDiscovery(options, _options.Loggers)
        {
            PeerNameOf = pin => _router.PeerLinks?.Table.NameOfPin(pin),
        };
        if (_router.PeerLinks is { } peers)
        {
            peers.Heard = discovery.Seen.AddressesOf;
        }

        discovery.Start();
        Volatile.Write(ref _discovery, discovery);
    }

    private async Task StopDiscoveryAsync()
    {
        if (Interlocked.Exchange(ref _discovery, null) is { } discovery)
        {
            await discovery.DisposeAsync().ConfigureAwait(false);
        }
    }

    /// <summary>The status's <c>discovery</c> section: what is seen now, and which of it is a peer.</summary>
    private DiscoveryStatus? CreateDiscoveryStatus()
    {
        if (_model.Source.Discovery is not { Enabled: true })
        {
            return null;
        }

        var discovery = Discovery;
        var table = _router.PeerLinks?.Table;
        return new DiscoveryStatus(
            discovery?.Options.DeviceName ?? _model.Source.Discovery.Name ?? DeviceName.Default(),
            discovery?.Options.Announce ?? false,
            discovery?.Error,
            discovery?.InterfaceNames ?? [],
            discovery?.Dropped ?? 0,
            [.. (discovery?.Seen.Snapshot() ?? []).Select(seen => new SeenGatewayStatus(
                seen.Name,
                seen.Pin,
                [.. seen.Addresses.Select(LinkDiscovery.Display)],
                seen.LastSeen,
                table?.NameOfPin(seen.Pin)))]);
    }
}
