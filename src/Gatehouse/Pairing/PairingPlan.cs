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
    string? Pin,
    string? Code,
    string[] Grant,
    string[] Databases,
    string? Name,
    int? Port,
    bool EnvStdin,
    TimeSpan Timeout);

/// <summary>The command line checked against the config before anything is sent: every usage error comes before the code.</summary>
internal sealed record PairingPlan(EndPoint? Connect, IPEndPoint Listen, int AdvertisedPort, PairingGrants Grants)
{
    /// <exception cref="ConfigException">A usage error.</exception>
    public static PairingPlan From(PairOptions options, GatehouseConfig config)
    {
        if (options.Connect is not null && options.Listen is not null)
        {
            throw new ConfigException("give --listen or --connect, not both");
        }

        if (options.Pin is not null && (options.Connect is null || !KeyPin.IsWellFormed(options.Pin)))
        {
            throw new ConfigException("--pin goes with --connect and looks like sha256//<base64 of 32 bytes>");
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
        if (port is not (>= 1 and <= 65535))
        {
            throw new ConfigException("the other device needs this gateway's port for its peer link, and the config's TLS listener has none fixed (\"port\": 0); give it one, or pass --port");
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

        return new PairingPlan(connect, ParseListen(options.Listen ?? "[::]:0"), port.Value, new PairingGrants(options.Grant, options.Databases));
    }

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
