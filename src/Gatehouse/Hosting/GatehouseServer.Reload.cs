using System.Security.Cryptography;
using System.Text.Json;
using Gatehouse.Config;
using Gatehouse.Model;
using Gatehouse.Observability;
using Gatehouse.Policy;
using Gatehouse.Routing;
using Gatehouse.Wire;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Gatehouse.Hosting;

/// <summary>
/// Hot reload (issue 7), on SIGHUP and when a file the config names changes (see
/// <see cref="ConfigFileWatcher"/>, <c>reload.watch</c>). What reloads: the server certificate and
/// key, the CAs, pins and deny list, the peer table, the routes and the rules. New handshakes and
/// new requests get them at once; requests in flight (tunnels and feeds included) finish with what
/// they started with; open connections are re-judged, and those whose key is no longer trusted, or
/// whose principal the new rules left without any grant, are closed. What does not: listeners and
/// limits, which are logged as needing a restart. A reload that fails anywhere changes nothing.
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
    private ConfigFileWatcher? _watcher;
    private bool _disposed; // read and written under _reloading

    /// <summary>The config file this server was created from and reloads from; null when built from an object.</summary>
    public string? ConfigPath => _configPath;

    /// <summary>The last reload's time, result and error; null before the first reload.</summary>
    public ReloadStatus? ReloadStatus => Volatile.Read(ref _reloadStatus);

    /// <summary>The files whose change triggers a reload (full paths); empty when not watching.</summary>
    public IReadOnlyCollection<string> WatchedFiles => _watcher?.Files ?? [];

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
        server._identityFiles = IdentityFiles(server._model);
        server._configPath = fullPath;
        server._environment = environment;
        server._reloadLog = (options?.Loggers ?? NullLoggerFactory.Instance).CreateLogger("Gatehouse.Reload");
        server._loggers = options?.Loggers ?? NullLoggerFactory.Instance;
        server._buffers = options?.Buffers ?? Wire.BufferPools.Shared;
        return server;
    }

    /// <summary>
    /// Reads the config file again and puts it in force:
    /// 1. parse and validate the file, load the certificate and key (with the passphrase given at
    ///    startup), the CAs, pins and deny list, the peer table, and build the routes, rules and route
    ///    handlers — any failure leaves the running configuration as it is, logs why, and is returned
    ///    (and kept in <see cref="ReloadStatus"/>);
    /// 2. swap the routes and rules: new requests use them, requests in flight keep the ones they began with;
    /// 3. swap identity and trust in the Wire layer: new handshakes use them at once, and open
    ///    connections whose key is no longer trusted, or whose principal had a grant and has none in
    ///    the new rules, are closed; the peer table is replaced too (issue 8);
    /// 4. point the file watcher at the files the new config names;
    /// 5. warn when listeners, limits or runtime settings changed: they need a restart.
    /// Reloads run one at a time.
    /// </summary>
    public async Task<ReloadStatus> ReloadAsync(CancellationToken cancellationToken = default)
    {
        await _reloading.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (_disposed)
            {
                return new ReloadStatus(DateTimeOffset.UtcNow, Succeeded: false, "the server was stopped", RevokedConnections: 0);
            }

            // File reads and key decryption (600,000 PBKDF2 rounds) are blocking work: off the caller's thread.
            var status = await Task.Run(ReloadCore, cancellationToken).ConfigureAwait(false);
            Observability.GatewayMetrics.Reloaded(status.Succeeded);
            Volatile.Write(ref _reloadStatus, status);
            return status;
        }
        finally
        {
            _reloading.Release();
        }
    }

    /// <summary>Starts watching the config's files when it asks for it (<c>reload.watch</c>, on by default).</summary>
    private void StartWatching()
    {
        if (_configPath is null || !_model.Source.Reload.Watch)
        {
            return;
        }

        _watcher = new ConfigFileWatcher(() => ReloadAsync(), _reloadLog);
        _watcher.Watch(WatchedFilesOf(_model, _configPath));
    }

    /// <summary>Stops watching, and waits for a reload in progress, so none runs on a stopped server.</summary>
    private async Task StopReloadingAsync()
    {
        _watcher?.Dispose();
        await _reloading.WaitAsync().ConfigureAwait(false);
        _disposed = true;
        _reloading.Release();
    }

    private ReloadStatus ReloadCore()
    {
        var time = DateTimeOffset.UtcNow;
        CompiledConfig? config = null;
        ServerIdentity? identity;
        ClientTrust trust;
        Peers.PeerTable peers;
        RouteGeneration generation;
        string? identityFiles;
        try
        {
            if (_configPath is null)
            {
                throw new ConfigException("this server was not created from a config file (GatehouseServer.CreateFromFile); there is nothing to reload");
            }

            config = CompiledConfig.Compile(ConfigLoader.Load(_configPath));
            // Unchanged certificate and key files: keep the identity in force rather than decrypt the
            // key again (600,000 PBKDF2 rounds), so a trust-only reload takes effect at once.
            identityFiles = IdentityFiles(config);
            identity = identityFiles is not null && identityFiles == _identityFiles && Identity is not null
                ? null
                : LoadIdentity(config, _environment);
            trust = LoadTrust(config);
            RequireCouchEnvironment(config.Source, _environment);
            // Built whole before anything is swapped; a route that cannot be served fails the whole reload.
            generation = RouteGeneration.Build(config, _options.Policy, _environment, _options.WebSocketRoutes, _logins, _loggers, _buffers, Limits.Upstream, _router.Generation, PeerLinks);
            try
            {
                // The peer table reloads too (issue 8); a broken entry fails the whole reload like any other.
                peers = Peers.PeerTable.Create(config, _environment, identity ?? Identity, _loggers, _buffers);
            }
            catch
            {
                foreach (var handler in generation.HandlersNotIn(_router.Generation))
                {
                    _ = handler.DisposeAsync().AsTask();
                }

                throw;
            }
        }
        catch (Exception ex) when (ex is ConfigException or CertificateFileException or ArgumentException or IOException or UnauthorizedAccessException)
        {
            _reloadLog.LogWarning("reload failed; the previous configuration stays in force: {Error}", ex.Message);
            if (config is not null && _watcher is { } watcher)
            {
                // The file parsed but names a file that is missing or broken: watch that too, so fixing it reloads.
                watcher.Watch(watcher.Files.Concat(WatchedFilesOf(config, _configPath!)));
            }

            return new ReloadStatus(time, Succeeded: false, ex.Message, RevokedConnections: 0);
        }

        var previousRules = _router.Generation.Rules;
        _router.Replace(generation);
        var revoked = _wire.UpdateTrust(identity, trust, _options.Policy is null ? LostEveryGrant(previousRules, generation.Rules) : null);
        // A principal that kept some grant keeps its connections, but not a feed, tunnel or download
        // whose own grant is gone (issue 17).
        revoked += _router.RejudgeLiveRequests();
        _router.PeerLinks?.Replace(peers);
        if (identity is not null)
        {
            Identity = identity;
            _identityFiles = identityFiles;
        }

        if (config.Source.Reload.Watch)
        {
            _watcher ??= new ConfigFileWatcher(() => ReloadAsync(), _reloadLog);
            _watcher.Watch(WatchedFilesOf(config, _configPath));
        }
        else
        {
            _watcher?.Watch([]);
        }

        foreach (var part in RestartOnlyParts(config, _model))
        {
            _reloadLog.LogWarning("{File}: {Part} changed; that takes effect only on restart (identity, trust, peers, routes and rules were reloaded)", _configPath, part);
        }

        _reloadLog.LogInformation(
            "reloaded {File}: server pin {Pin}, {Cas} CA(s), {Pins} pin(s), {Denied} denied, {Routes} route(s), {Rules} rule(s); {Revoked} connection(s) closed",
            _configPath,
            Pin,
            config.Cas.Count,
            config.Source.Trust.Pins.Count,
            config.Source.Trust.Deny.Count,
            config.Routes.Count,
            config.Source.Rules.Count,
            revoked);
        return new ReloadStatus(time, Succeeded: true, Error: null, revoked);
    }

    /// <summary>
    /// What "re-judged against the new policy" means for an open connection (issue 7): a principal
    /// that had some grant and has none in the reloaded rules is cut off, keep-alive, tunnels and feeds
    /// alike. A principal that keeps any grant keeps its connections; each new request is judged by
    /// the new rules anyway. Principals that never had a grant (who may still ask whoami) are left alone.
    /// </summary>
    private static RevocationCheck LostEveryGrant(ConfigPolicy before, ConfigPolicy after) =>
        principal => before.GrantsAnything(principal) && !after.GrantsAnything(principal)
            ? "the reloaded rules grant this key nothing"
            : null;

    /// <summary>The config file and every certificate and key file it names: a change to any of them reloads.</summary>
    private static IEnumerable<string> WatchedFilesOf(CompiledConfig config, string configPath)
    {
        if (configPath.Length > 0)
        {
            yield return configPath;
        }

        if (config.Tls is { } tls)
        {
            yield return tls.Certificate;
            yield return tls.Key;
        }

        foreach (var ca in config.Cas)
        {
            yield return ca.Certificate;
        }

        foreach (var peer in config.Peers)
        {
            yield return peer.Identity.Certificate;
            yield return peer.Identity.Key;
        }
    }

    /// <summary>A fingerprint of the server certificate and key files (paths and bytes); null when there are none or they cannot be read.</summary>
    private static string? IdentityFiles(CompiledConfig config)
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

    /// <summary>
    /// The parts of <paramref name="reloaded"/> that differ from the config the server started with and
    /// that a reload does not apply: listeners are bound sockets, and limits are read by the accept
    /// loop, the TLS handshake and every HTTP connection, which hold them for their lifetime; the
    /// runtime settings are fixed when the Wire server is built.
    /// </summary>
    private static IEnumerable<string> RestartOnlyParts(CompiledConfig reloaded, CompiledConfig started)
    {
        if (!reloaded.Listeners.SequenceEqual(started.Listeners))
        {
            yield return "$.listen";
        }

        if (Json(new GatehouseConfig { Limits = reloaded.Source.Limits }) != Json(new GatehouseConfig { Limits = started.Source.Limits }))
        {
            yield return "$.limits";
        }

        if (reloaded.TlsTuning != started.TlsTuning)
        {
            yield return "$.runtime";
        }

        static string Json(GatehouseConfig part) => JsonSerializer.Serialize(part, ConfigJsonContext.Default.GatehouseConfig);
    }
}
