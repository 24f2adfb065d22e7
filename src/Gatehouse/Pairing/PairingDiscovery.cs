using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Authentication;
using System.Security.Cryptography.X509Certificates;
using Gatehouse.Config;
using Gatehouse.Discovery;
using Gatehouse.Wire;
using Microsoft.Extensions.Logging;

namespace Gatehouse.Pairing;

/// <summary>
/// <c>gatehouse pair</c> on the local link (issue 21): a waiting device announces itself as
/// <c>_gatehouse-pair._tcp</c> (only while it waits, like a phone made discoverable), the other
/// finds it by its announced name or as the only one waiting, and each learns its own gateway's
/// port from that gateway's <c>_gatehouse._tcp</c> SRV record when the config says port 0.
/// What is heard is only where to dial: the code, bound to both pins, is what the person confirms.
/// </summary>
internal static class PairingDiscovery
{
    /// <summary>How long to listen before deciding who is waiting: the waiting side answers a query within a second (RFC 6762 §6 rate).</summary>
    public static readonly TimeSpan LookTime = TimeSpan.FromSeconds(2);

    /// <summary>How long to wait for this device's own running gateway to answer.</summary>
    public static readonly TimeSpan OwnGatewayTime = TimeSpan.FromSeconds(3);

    /// <summary>Whether the config lets pairing use the link: discovery enabled (what <c>gatehouse init</c> writes).</summary>
    public static bool IsOn(GatehouseConfig config) => config.Discovery is { Enabled: true };

    /// <summary>Announces this device as waiting to pair on <paramref name="port"/> until disposed (which says goodbye).</summary>
    public static LinkDiscovery Announce(GatehouseConfig config, string pin, int port, ILoggerFactory loggers)
    {
        var discovery = new LinkDiscovery(Options(config, pin, port, announce: true), loggers);
        discovery.Start();
        return discovery;
    }

    /// <summary>The port this device's running gateway announces for its key, or null when none answered in time.</summary>
    public static async Task<int?> OwnGatewayPortAsync(GatehouseConfig config, string pin, ILoggerFactory loggers, CancellationToken cancellationToken)
    {
        var options = Options(config, pin, 0, announce: false) with { ServiceType = GatehouseService.ServiceType, IncludeSelf = true };
        var discovery = new LinkDiscovery(options, loggers);
        await using (discovery.ConfigureAwait(false))
        {
            discovery.Start();
            var deadline = DateTimeOffset.UtcNow + OwnGatewayTime;
            while (DateTimeOffset.UtcNow < deadline)
            {
                foreach (var heard in discovery.Seen.AddressesOf([pin]))
                {
                    // Anyone can announce our pin: only a port where our own key answers is ours.
                    if (await PresentsPinAsync(heard, pin, cancellationToken).ConfigureAwait(false))
                    {
                        return heard.Port;
                    }
                }

                await Task.Delay(100, cancellationToken).ConfigureAwait(false);
            }

            return null;
        }
    }

    /// <summary>
    /// The devices waiting to pair that this one could pair with: not itself, not already in the
    /// config, named <paramref name="name"/> and announcing <paramref name="expectedPin"/> when given.
    /// Listens at least <see cref="LookTime"/>; with a name, keeps listening until one with that name
    /// is heard or <paramref name="cancellationToken"/> fires.
    /// </summary>
    public static async Task<IReadOnlyList<SeenGateway>> FindAsync(GatehouseConfig config, string pin, string? name, string? expectedPin, ILoggerFactory loggers, CancellationToken cancellationToken)
    {
        var discovery = new LinkDiscovery(Options(config, pin, 0, announce: false), loggers);
        await using (discovery.ConfigureAwait(false))
        {
            discovery.Start();
            if (discovery.Error is { } error)
            {
                throw new PairingException("cannot look for the other device on the link: " + error);
            }

            var looked = DateTimeOffset.UtcNow + LookTime;
            while (true)
            {
                await Task.Delay(100, cancellationToken).ConfigureAwait(false);
                var candidates = discovery.Seen.Snapshot()
                    .Where(seen => PairedPeerWriter.KnownAs(config, seen.Pin) is null)
                    .Where(seen => name is null || string.Equals(seen.Name, name, StringComparison.Ordinal))
                    .Where(seen => expectedPin is null || string.Equals(seen.Pin, expectedPin, StringComparison.Ordinal))
                    .ToList();
                if (DateTimeOffset.UtcNow >= looked && (name is null || candidates.Count > 0))
                {
                    return candidates;
                }
            }
        }
    }

    /// <summary>Whether a TLS server at <paramref name="endPoint"/> presents the key of <paramref name="pin"/> (checked in the handshake; nothing is sent after it).</summary>
    private static async Task<bool> PresentsPinAsync(IPEndPoint endPoint, string pin, CancellationToken cancellationToken)
    {
        using var bounded = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        bounded.CancelAfter(TimeSpan.FromSeconds(2));
        using var socket = new Socket(endPoint.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
        string? presented = null;
        try
        {
            await socket.ConnectAsync(endPoint, bounded.Token).ConfigureAwait(false);
            await using var tls = new SslStream(new NetworkStream(socket, ownsSocket: false));
            await tls.AuthenticateAsClientAsync(
                new SslClientAuthenticationOptions
                {
                    TargetHost = string.Empty,
                    EnabledSslProtocols = SslProtocols.Tls12 | SslProtocols.Tls13,
                    CertificateRevocationCheckMode = X509RevocationMode.NoCheck,
                    RemoteCertificateValidationCallback = (_, certificate, _, _) =>
                    {
                        using var copy = certificate is null ? null : X509CertificateLoader.LoadCertificate(certificate.GetRawCertData());
                        presented = copy is null ? null : KeyPin.Compute(copy);
                        return false; // seen what we came for; end the handshake here
                    },
                },
                bounded.Token).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is SocketException or IOException or AuthenticationException or OperationCanceledException)
        {
            cancellationToken.ThrowIfCancellationRequested();
        }

        return string.Equals(presented, pin, StringComparison.Ordinal);
    }

    /// <summary>A device as a person reads it in a list: "phone" sha256//….</summary>
    public static string Describe(SeenGateway seen) => $"\"{seen.Name}\" {seen.Pin}";

    private static DiscoveryOptions Options(GatehouseConfig config, string pin, int port, bool announce) => new(
        config.Discovery?.Name ?? DeviceName.Default(),
        pin,
        port,
        IPAddress.IPv6Any,
        announce,
        config.Discovery?.Interfaces ?? [])
    {
        ServiceType = GatehouseService.PairingServiceType,
    };
}
