using System.Security.Cryptography;
using System.Text.Json;
using Gatehouse.Config;
using Gatehouse.Wire;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Gatehouse.Hosting;

/// <summary>
/// Hot reload (issue 7): the config file is read again and the server certificate and key, the CAs,
/// the whitelist and the deny list are swapped in the Wire layer, which closes the open connections
/// of keys no longer trusted. Listeners, limits, routes and rules are fixed at startup; a change to
/// them is logged as needing a restart.
/// </summary>
public sealed partial class GatehouseServer
{
    private readonly SemaphoreSlim _reloading = new(1, 1);
    private string? _configPath;
    private StdinEnvironment? _environment; // kept in memory only: the key passphrase is needed again on reload
    private ILogger _reloadLog = NullLogger.Instance;
    private ILoggerFactory _loggers = NullLoggerFactory.Instance; // for the peer links a reload builds
    private Wire.BufferPools _buffers = Wire.BufferPools.Shared; // likewise
    private ReloadStatus? _reloadStatus;
    private string? _identityFiles; // fingerprint of the certificate and key files Identity came from

    /// <summary>The config file this server was created from and reloads from; null when built from an object.</summary>
    public string? ConfigPath => _configPath;

    /// <summary>The last reload's time, result and error; null before the first reload.</summary>
    public ReloadStatus? ReloadStatus => Volatile.Read(ref _reloadStatus);

    /// <summary>
    /// Loads <paramref name="configPath"/> and builds the server (see <see cref="Create"/>), remembering
    /// the file and the environment so that <see cref="ReloadAsync"/> can read them again.
    /// </summary>
    /// <exception cref="ConfigException">Anything the user must fix; the message names the file and field.</exception>
    public static GatehouseServer CreateFromFile(string configPath, StdinEnvironment? environment, GatehouseServerOptions? options = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(configPath);
        var fullPath = Path.GetFullPath(configPath);
        var config = ConfigLoader.Load(fullPath);
        var server = Create(config, environment, options);
        server._identityFiles = IdentityFiles(config);
        server._configPath = fullPath;
        server._environment = environment;
        server._reloadLog = (options?.Loggers ?? NullLoggerFactory.Instance).CreateLogger("Gatehouse.Reload");
        server._loggers = options?.Loggers ?? NullLoggerFactory.Instance;
        server._buffers = options?.Buffers ?? Wire.BufferPools.Shared;
        return server;
    }

    /// <summary>
    /// Reads the config file again and puts its server identity and client trust in force:
    /// 1. parse and validate the file, load the certificate and key (with the passphrase given at
    ///    startup), the CAs, pins and deny list — any failure leaves the running configuration as it is,
    ///    logs why, and is returned (and kept in <see cref="ReloadStatus"/>);
    /// 2. swap identity and trust in the Wire layer: new handshakes use them at once, requests in flight
    ///    finish, and open connections whose key is no longer trusted are closed; the peer table is
    ///    replaced too (issue 8: a peer removed from it is no longer reachable through /_peers/);
    /// 3. warn when parts that need a restart (listeners, limits, routes, rules) changed.
    /// Reloads run one at a time.
    /// </summary>
    public async Task<ReloadStatus> ReloadAsync(CancellationToken cancellationToken = default)
    {
        await _reloading.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            // File reads and key decryption (600,000 PBKDF2 rounds) are blocking work: off the caller's thread.
            var status = await Task.Run(ReloadCore, cancellationToken).ConfigureAwait(false);
            Volatile.Write(ref _reloadStatus, status);
            return status;
        }
        finally
        {
            _reloading.Release();
        }
    }

    private ReloadStatus ReloadCore()
    {
        var time = DateTimeOffset.UtcNow;
        GatehouseConfig config;
        ServerIdentity? identity;
        ClientTrust trust;
        Peers.PeerTable peers;
        string? identityFiles;
        try
        {
            if (_configPath is null)
            {
                throw new ConfigException("this server was not created from a config file (GatehouseServer.CreateFromFile); there is nothing to reload");
            }

            config = ConfigLoader.Load(_configPath);
            // Unchanged certificate and key files: keep the identity in force rather than decrypt the
            // key again (600,000 PBKDF2 rounds), so a trust-only reload takes effect at once.
            identityFiles = IdentityFiles(config);
            identity = identityFiles is not null && identityFiles == _identityFiles && Identity is not null
                ? null
                : LoadIdentity(config, _environment);
            trust = LoadTrust(config);
            // The peer table reloads too (issue 8); a broken entry fails the whole reload like any other.
            peers = Peers.PeerTable.Create(config, _environment, identity ?? Identity, _loggers, _buffers);
        }
        catch (Exception ex) when (ex is ConfigException or CertificateFileException or ArgumentException or IOException or UnauthorizedAccessException)
        {
            _reloadLog.LogWarning("reload failed; the previous configuration stays in force: {Error}", ex.Message);
            return new ReloadStatus(time, Succeeded: false, ex.Message, RevokedConnections: 0);
        }

        var revoked = _wire.UpdateTrust(identity, trust);
        _router.PeerLinks?.Replace(peers);
        if (identity is not null)
        {
            Identity = identity;
            _identityFiles = identityFiles;
        }

        if (RestartOnlyPart(config) != RestartOnlyPart(_config))
        {
            _reloadLog.LogWarning("{File}: listeners, limits, routes or rules changed; they take effect only on restart (identity and trust were reloaded)", _configPath);
        }

        _reloadLog.LogInformation(
            "reloaded {File}: server pin {Pin}, {Cas} CA(s), {Pins} pin(s), {Denied} denied; {Revoked} connection(s) closed",
            _configPath,
            Pin,
            config.Trust.Cas.Count,
            config.Trust.Pins.Count,
            config.Trust.Deny.Count,
            revoked);
        return new ReloadStatus(time, Succeeded: true, Error: null, revoked);
    }

    /// <summary>A fingerprint of the server certificate and key files (paths and bytes); null when there are none or they cannot be read.</summary>
    private static string? IdentityFiles(GatehouseConfig config)
    {
        if (config.Tls is not { Certificate.Length: > 0, Key.Length: > 0 } tls)
        {
            return null;
        }

        try
        {
            using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
            foreach (var path in (string[])[tls.Certificate, tls.Key])
            {
                hash.AppendData(System.Text.Encoding.UTF8.GetBytes(path + "\0"));
                var bytes = File.ReadAllBytes(path);
                hash.AppendData(bytes);
                CryptographicOperations.ZeroMemory(bytes);
            }

            return Convert.ToHexString(hash.GetHashAndReset());
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return null; // LoadIdentity reports it properly
        }
    }

    /// <summary>The parts of a config that a reload does not apply, in one comparable string.</summary>
    private static string RestartOnlyPart(GatehouseConfig config) => JsonSerializer.Serialize(
        new GatehouseConfig { Listen = config.Listen, Routes = config.Routes, Rules = config.Rules, Limits = config.Limits },
        ConfigJsonContext.Default.GatehouseConfig);
}
