using System.Net;
using System.Security.Cryptography.X509Certificates;
using Gatehouse.Config;
using Gatehouse.Model;
using Gatehouse.Proxy;
using Gatehouse.Wire;
using Microsoft.Extensions.Logging;

namespace Gatehouse.Peers;

/// <summary>
/// The peer table in force (issue 8): per peer, a pool of keep-alive TLS connections that present
/// this device's certificate (or the peer's own one from config) and accept only the peer's pins.
/// Built at startup and again on reload; nothing connects until the first request.
/// With discovery (issue 21) the configured addresses are a hint: a peer heard on the link at
/// another address gets a pool that tries the heard addresses first, then the configured ones.
/// </summary>
internal sealed partial class PeerTable : IAsyncDisposable
{
    /// <summary>Short, so a dead address gives way to the next one quickly (issue 8: first that answers wins).</summary>
    private static readonly TimeSpan ConnectTimeout = TimeSpan.FromSeconds(2);

    private readonly Dictionary<string, PeerLink> _links;
    private readonly List<X509Certificate2> _owned;
    private readonly Dictionary<string, string> _nameByPin;
    private readonly ILogger _logger;

    private PeerTable(Dictionary<string, PeerLink> links, List<X509Certificate2> owned, ILogger logger)
    {
        _links = links;
        _owned = owned;
        _logger = logger;
        _nameByPin = new(StringComparer.Ordinal);
        foreach (var link in links.Values)
        {
            foreach (var pin in link.Pins)
            {
                _nameByPin.TryAdd(pin, link.Name);
            }
        }
    }

    public static PeerTable Empty { get; } = new([], [], Microsoft.Extensions.Logging.Abstractions.NullLogger.Instance);

    public IReadOnlyCollection<string> Names => _links.Keys;

    /// <summary>The name of the peer one of whose pins this is, or null: what "paired" means to discovery.</summary>
    public string? NameOfPin(string pin) => _nameByPin.GetValueOrDefault(pin);

    /// <summary>Builds the table of a validated config. Throws <see cref="ConfigException"/> for a certificate the user must fix.</summary>
    /// <param name="identity">The server identity in force: reused when a peer presents the server's own certificate (no second key decryption).</param>
    public static PeerTable Create(CompiledConfig config, StdinEnvironment? environment, ServerIdentity? identity, ILoggerFactory loggers, BufferPools buffers)
    {
        if (config.Peers.Count == 0)
        {
            return Empty;
        }

        var owned = new List<X509Certificate2>();
        var loaded = new Dictionary<(string, string), X509Certificate2>();
        var links = new Dictionary<string, PeerLink>(StringComparer.Ordinal);
        var logger = loggers.CreateLogger("Gatehouse.Peer");
        for (var i = 0; i < config.Peers.Count; i++)
        {
            var (peer, identityFiles) = config.Peers[i];
            var field = $"$.peers[{i}]";
            var certificate = ClientCertificate(config, identityFiles, field, environment, identity, loaded, owned);
            var options = new UpstreamOptions { ConnectTimeout = ConnectTimeout, PreferLastGoodNode = true, Buffers = buffers };
            var addresses = peer.Addresses.Select(UpstreamAddress.Parse).ToList();
            var tls = new UpstreamTls(certificate, peer.Pins);
            links[peer.Name] = new PeerLink(peer.Name, [.. peer.Pins], addresses, tls, options, new UpstreamPool(addresses, tls, options, logger));
        }

        return new PeerTable(links, owned, logger);
    }

    /// <summary>The peer named <paramref name="name"/>, or null.</summary>
    public PeerLink? Find(string name) => _links.GetValueOrDefault(name);

    public async ValueTask DisposeAsync()
    {
        foreach (var link in _links.Values)
        {
            await link.DisposeAsync().ConfigureAwait(false);
        }

        foreach (var certificate in _owned)
        {
            certificate.Dispose();
        }
    }

    private static X509Certificate2 ClientCertificate(
        CompiledConfig config,
        KeyFiles files,
        string field,
        StdinEnvironment? environment,
        ServerIdentity? identity,
        Dictionary<(string, string), X509Certificate2> loaded,
        List<X509Certificate2> owned)
    {
        var paths = (files.Certificate, files.Key);
        if (loaded.TryGetValue(paths, out var known))
        {
            return known;
        }

        X509Certificate2 certificate;
        if (identity is not null && config.Tls is { } tls && paths == (tls.Certificate, tls.Key))
        {
            certificate = identity.Certificate;
        }
        else
        {
            try
            {
                certificate = PemFiles.LoadCertificateWithKey(paths.Item1, paths.Item2, environment?.KeyPassphrase ?? string.Empty);
            }
            catch (CertificateFileException ex)
            {
                throw new ConfigException($"{field}: {ex.Message}", ex);
            }

            owned.Add(certificate);
        }

        if (!AllowsClientAuth(certificate))
        {
            // The peer would refuse it at the handshake with a reason only its own log shows; say it here.
            throw new ConfigException(
                $"{field}: {paths.Item1} is not for client authentication (its extended key usage lacks clientAuth), so the peer would refuse it; " +
                "issue a device certificate with `gatehouse cert issue` and name it in certificate and key");
        }

        loaded[paths] = certificate;
        return certificate;
    }

    /// <summary>RFC 5280 §4.2.1.12: without an EKU extension any use is allowed; with one, clientAuth must be listed.</summary>
    private static bool AllowsClientAuth(X509Certificate2 certificate) =>
        certificate.Extensions["2.5.29.37"] is not X509EnhancedKeyUsageExtension eku
        || eku.EnhancedKeyUsages.Cast<System.Security.Cryptography.Oid>().Any(oid => oid.Value == "1.3.6.1.5.5.7.3.2");
}
