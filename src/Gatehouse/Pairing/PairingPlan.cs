using System.Globalization;
using System.Net;
using Gatehouse.Config;
using Gatehouse.Wire;

namespace Gatehouse.Pairing;

/// <summary>The command line of <c>gatehouse pair</c>, as given.</summary>
internal sealed record PairOptions(
    string ConfigPath,
    string? Listen,
    string? Connect,
    string? With,
    string? Pin,
    string? Code,
    string[] Grant,
    string[] Databases,
    string? Name,
    int? Port,
    bool EnvStdin,
    TimeSpan Timeout);

/// <summary>How this run meets the other device.</summary>
internal enum PairingMode
{
    /// <summary>No --listen, --connect or --with: connect to the one device waiting on the link, else wait and announce.</summary>
    LookThenWait,

    /// <summary>--listen: wait at the address given, announced on the link when it is a wildcard.</summary>
    Wait,

    /// <summary>--connect: dial the address given.</summary>
    Connect,

    /// <summary>--with NAME: find the device waiting under that name on the link and dial it.</summary>
    ConnectByName,
}

/// <summary>The command line checked against the config before anything is sent: every usage error comes before the code.</summary>
/// <param name="AdvertisedPort">The gateway port told to the other device; null: learn it from this device's running gateway on the link.</param>
internal sealed record PairingPlan(PairingMode Mode, EndPoint? Connect, string? With, IPEndPoint Listen, int? AdvertisedPort, PairingGrants Grants)
{
    /// <summary>The --with value meaning "the only device waiting to pair on the link".</summary>
    public const string Anyone = "*";

    /// <exception cref="ConfigException">A usage error.</exception>
    public static PairingPlan From(PairOptions options, GatehouseConfig config)
    {
        if (new[] { options.Connect, options.Listen, options.With }.Count(o => o is not null) > 1)
        {
            throw new ConfigException("give one of --listen, --connect or --with");
        }

        if (options.Pin is not null && ((options.Connect is null && options.With is null) || !KeyPin.IsWellFormed(options.Pin)))
        {
            throw new ConfigException("--pin goes with --connect or --with and looks like sha256//<base64 of 32 bytes>");
        }

        if (options.With is { } with && with != Anyone && !Discovery.DeviceName.IsValid(with))
        {
            throw new ConfigException($"--with \"{with}\": give the name the other device announces (as `gatehouse peers` shows it), or '{Anyone}' for the only one waiting");
        }

        if (options.With is not null && !PairingDiscovery.IsOn(config))
        {
            throw new ConfigException("--with finds the other device on the local link, and discovery is off in the config: add \"discovery\": { \"enabled\": true }, or use --connect ADDRESS");
        }

        if (options.Code?.Replace(" ", string.Empty, StringComparison.Ordinal) is { } digits && (digits.Length != PairingCode.Digits || !digits.All(char.IsAsciiDigit)))
        {
            throw new ConfigException("--code takes the 6 digits the other device shows, like 123456");
        }

        if (options.Timeout <= TimeSpan.Zero)
        {
            throw new ConfigException("--timeout must be at least 1 second");
        }

        if (options.Name is { } name && (!PairedPeerWriter.IsValidName(name) || !PairedPeerWriter.IsFree(config, name)))
        {
            throw new ConfigException($"--name \"{name}\": use 1-64 letters, digits, '.', '_' or '-' that no peer or pin in the config has yet");
        }

        var unknown = options.Grant.FirstOrDefault(g => !PairedPeerWriter.Grantable.Contains(g));
        if (unknown is not null)
        {
            throw new ConfigException($"--grant \"{unknown}\": use {string.Join(", ", PairedPeerWriter.Grantable)}");
        }

        if ((options.Grant.Length == 0) != (options.Databases.Length == 0))
        {
            throw new ConfigException("--grant and --databases go together: what the other device may do, and on which databases");
        }

        var port = options.Port ?? config.Listen.FirstOrDefault(l => l.Tls && l.Port != 0)?.Port;
        if (options.Port is { } given && given is not (>= 1 and <= 65535))
        {
            throw new ConfigException("--port takes 1-65535");
        }

        if (port is null && !PairingDiscovery.IsOn(config))
        {
            throw new ConfigException(NoPort);
        }

        EndPoint? connect = null;
        if (options.Connect is { } target)
        {
            try
            {
                connect = Proxy.UpstreamAddress.Parse(target);
            }
            catch (FormatException ex)
            {
                throw new ConfigException("--connect " + ex.Message, ex);
            }
        }

        var mode = options.With is not null ? PairingMode.ConnectByName
            : connect is not null ? PairingMode.Connect
            : options.Listen is not null ? PairingMode.Wait
            : PairingDiscovery.IsOn(config) ? PairingMode.LookThenWait : PairingMode.Wait;
        return new PairingPlan(mode, connect, options.With, ParseListen(options.Listen ?? "[::]:0"), port, new PairingGrants(options.Grant, options.Databases));
    }

    /// <summary>Why pairing cannot go on without a port: said before anything is sent, and when the running gateway was not heard.</summary>
    public const string NoPort = "the other device needs this gateway's port for its peer link, and the config's TLS listener has none fixed (\"port\": 0) "
        + "and no running gatehouse with this key was heard on the link to learn it from; start `gatehouse serve` with this config (discovery on), fix the port, or pass --port";

    private static IPEndPoint ParseListen(string text)
    {
        var colon = text.LastIndexOf(':');
        if (colon <= 0 || !int.TryParse(text.AsSpan(colon + 1), NumberStyles.None, CultureInfo.InvariantCulture, out var port) || port > 65535)
        {
            throw new ConfigException($"--listen '{text}': expected ADDR:PORT, like [::]:0 or 192.0.2.7:7443");
        }

        try
        {
            return new IPEndPoint(ListenEndpoint.ParseAddress(text[..colon]), port);
        }
        catch (FormatException ex)
        {
            throw new ConfigException($"--listen '{text}': {ex.Message}", ex);
        }
    }
}
