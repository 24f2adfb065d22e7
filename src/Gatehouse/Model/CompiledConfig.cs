using Gatehouse.Config;
using Gatehouse.Wire;

namespace Gatehouse.Model;

/// <summary>
/// A validated config compiled for the running gateway (issue 20 item 4): defaults filled in and
/// every path resolved against the config file's folder, so nothing downstream edits or re-reads
/// <see cref="GatehouseConfig"/>, which stays as the user wrote it (<see cref="Source"/>). A reload
/// compiles a new one.
/// </summary>
public sealed class CompiledConfig
{
    private CompiledConfig(GatehouseConfig source, GatewayLimits limits)
    {
        Source = source;
        Limits = limits;
        TlsTuning = source.Runtime.TlsTuning;
        var folder = ConfigValidator.FolderOf(source);
        string Resolve(string path) => Path.GetFullPath(Path.Combine(folder, path));

        // No listener named: one TLS listener on [::] with a port the system picks.
        var listen = source.Listen.Count > 0 ? source.Listen : [new ListenConfig()];
        Listeners = [.. listen.Select(l => new Listener(l.Address, l.Port, l.Tls, l.Local, l.ClientCertificate, l.Unrestricted))];
        Tls = source.Tls is { Certificate.Length: > 0, Key.Length: > 0 } tls ? new KeyFiles(Resolve(tls.Certificate), Resolve(tls.Key)) : null;
        Cas = [.. source.Trust.Cas.Select(ca => new CaFile(ca.Name, Resolve(ca.Certificate)))];
        var localUnrestricted = RouteConfigRules.LocalIsUnrestricted(listen);
        Routes = [.. source.Routes.Select(route => new RouteSettings(
            route,
            RouteKindNames.Parse(route.Kind) ?? RouteKind.Proxy, // the validator refuses unknown kinds; a config built in code without one is a proxy route
            RoutePrefix.Of(route),
            [.. (route.Stores ?? []).Select(Resolve)],
            route.Access?.UsersFile is { } users ? Resolve(users) : null,
            localUnrestricted))];

        // A peer link presents its own certificate and key, or else the server's (issue 8).
        Peers = [.. source.Peers.Select(peer => new PeerSettings(
            peer,
            peer.Certificate is { } certificate && peer.Key is { } key ? new KeyFiles(Resolve(certificate), Resolve(key))
            : Tls ?? throw new ConfigException($"peer {peer.Name}: needs certificate and key: there is no tls.certificate and tls.key to present instead")))];
    }

    /// <summary>The config as written (and validated).</summary>
    public GatehouseConfig Source { get; }

    /// <summary>The listeners in config order; the default one when the config names none.</summary>
    public IReadOnlyList<Listener> Listeners { get; }

    /// <summary>The server's certificate and key files; null when the config names no (or an empty) <c>tls</c> pair.</summary>
    public KeyFiles? Tls { get; }

    public IReadOnlyList<CaFile> Cas { get; }

    public IReadOnlyList<RouteSettings> Routes { get; }

    public IReadOnlyList<PeerSettings> Peers { get; }

    /// <summary>The defaults with the config's <c>limits</c> applied.</summary>
    public GatewayLimits Limits { get; }

    /// <summary>Whether the TLS runtime tuning (src/Wire/Tuning) is on; restart-only.</summary>
    public bool TlsTuning { get; }

    /// <summary>True when some listener speaks TLS, so the server needs its certificate and key.</summary>
    public bool HasTlsListener => Listeners.Any(l => l.Tls);

    /// <summary>Compiles <paramref name="config"/>, which <see cref="ConfigValidator"/> found valid (the loader checks).</summary>
    /// <exception cref="ConfigException">A limit the validator would have refused (a config built in code).</exception>
    public static CompiledConfig Compile(GatehouseConfig config)
    {
        ArgumentNullException.ThrowIfNull(config);
        GatewayLimits limits;
        try
        {
            limits = LimitsBinder.Apply(config.Limits);
        }
        catch (FormatException ex)
        {
            throw new ConfigException("$.limits: " + ex.Message, ex);
        }

        return new CompiledConfig(config, limits);
    }
}

/// <summary>One listener as written (the ready line repeats its address); two are equal when every field is.</summary>
public sealed record Listener(string Address, int Port, bool Tls, bool Local, string ClientCertificate, bool Unrestricted)
{
    /// <summary>A new endpoint for Wire to bind.</summary>
    public ListenEndpoint ToEndpoint() => ConfigLoader.ToEndpoint(new ListenConfig { Address = Address, Port = Port, Tls = Tls, Local = Local, ClientCertificate = ClientCertificate });
}

/// <summary>A certificate file and its key file, full paths.</summary>
public sealed record KeyFiles(string Certificate, string Key);

/// <summary>A user CA: the name rules select it by (<c>ca:NAME</c>) and its certificate file, full path.</summary>
public sealed record CaFile(string Name, string Certificate);

/// <summary>
/// A route as compiled: its kind, the prefix it serves (<see cref="RoutePrefix.Of"/>), resolved
/// store folders and users file, and whether the local user passes its access check without a
/// grant (unrestricted local listeners). <see cref="Config"/> holds the rest as written.
/// </summary>
public sealed record RouteSettings(RouteConfig Config, RouteKind Kind, string Prefix, IReadOnlyList<string> Stores, string? UsersFile, bool LocalUnrestricted);

/// <summary>A peer of the peer table (issue 8) and the certificate and key its link presents.</summary>
public sealed record PeerSettings(PeerConfig Config, KeyFiles Identity);
