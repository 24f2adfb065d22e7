using System.CommandLine;
using System.Net;
using System.Security.Cryptography.X509Certificates;
using Gatehouse.Config;
using Gatehouse.Discovery;
using Gatehouse.Pairing;
using Gatehouse.Wire;
using Microsoft.Extensions.Logging;

namespace Gatehouse.Cli;

/// <summary>
/// <c>gatehouse pair</c> (issue 21 item 2): two devices meet over mutual TLS, each presenting its
/// own key, show the same 6-digit code, and once the person confirmed it on both, each adds the
/// other to its peer table. With discovery on (what <c>gatehouse init</c> writes), the same bare
/// command on both finds the other: the first waits and announces itself on the link, the second
/// connects to the one device waiting (or the one named by <c>--with</c>). <c>--listen</c> and
/// <c>--connect</c> give addresses by hand. See <see cref="PairingSession"/> and docs/pairing.md.
/// </summary>
internal static class PairCommand
{
    public static Command Create()
    {
        var config = new Option<FileInfo>("--config", "-c") { Description = "this device's config; its tls certificate and key are presented, and the other device is added to it", Required = true };
        var listen = new Option<string?>("--listen") { Description = "wait for the other device on ADDR:PORT instead of looking for it first ([::]:0: any free port, announced on the link; the chosen one is printed)" };
        var with = new Option<string?>("--with") { Description = "pair with the device waiting on the link under this name (as `gatehouse peers` shows it), or '*' for the only one waiting; waits for it until --timeout" };
        var connect = new Option<string?>("--connect") { Description = "connect to the other device's `gatehouse pair --listen`: host:port, [v6]:port or [fe80::1%eth0]:port" };
        var pin = new Option<string?>("--pin") { Description = "with --connect or --with: the pin the waiting device printed; any other key is refused before anything is sent" };
        var code = new Option<string?>("--code") { Description = "the code the other device shows, given in advance instead of typing yes (for the second device)" };
        var grant = new Option<string?>("--grant") { Description = "CouchDB access the other device gets here, e.g. pull,push (default: peer link only, no database)" };
        var databases = new Option<string[]>("--databases") { Description = "database patterns the grant applies to, e.g. 'novacut-0-*' (comma-separated or repeated)", AllowMultipleArgumentsPerToken = false };
        var name = new Option<string?>("--name") { Description = "the name to record the other device under (default: the name it gives, made unique)" };
        var port = new Option<int?>("--port") { Description = "the port this device's gateway listens on, told to the other device (default: the config's first TLS listener's fixed port, else what the running gateway announces on the link)" };
        var envStdin = new Option<bool>("--env-stdin") { Description = "read {\"keyPassphrase\": \"…\"} from stdin first (an encrypted key)" };
        var timeout = new Option<int>("--timeout") { Description = "give up after this many seconds", DefaultValueFactory = _ => 120 };
        var command = new Command("pair", "Pair with another device: run it on both (they find each other on the link), both show a 6-digit code; confirm it on both, and each adds the other to its peer table.")
        {
            config, listen, connect, with, pin, code, grant, databases, name, port, envStdin, timeout,
        };
        command.SetAction((result, cancellationToken) =>
        {
            var options = new PairOptions(
                result.GetValue(config)!.FullName,
                result.GetValue(listen),
                result.GetValue(connect),
                result.GetValue(with),
                result.GetValue(pin),
                result.GetValue(code),
                Split(result.GetValue(grant) is { } g ? [g] : []),
                Split(result.GetValue(databases) ?? []),
                result.GetValue(name),
                result.GetValue(port),
                result.GetValue(envStdin),
                TimeSpan.FromSeconds(result.GetValue(timeout)));
            return RunAsync(options, cancellationToken);
        });
        return command;
    }

    /// <summary><c>gatehouse unpair NAME</c>: the other half of pairing; see <see cref="PairedPeerWriter.Remove"/>.</summary>
    public static Command CreateUnpair()
    {
        var name = new Argument<string>("NAME") { Description = "the name the device was paired under" };
        var config = new Option<FileInfo>("--config", "-c") { Description = "this device's config", Required = true };
        var command = new Command("unpair", "Remove a paired device: its peer table entry, its pin and the rules naming it. A running gatehouse reloads and closes its connections.") { name, config };
        command.SetAction(result =>
        {
            try
            {
                var pins = PairedPeerWriter.Remove(result.GetValue(config)!.FullName, result.GetValue(name)!);
                Console.Out.WriteLine($"unpaired \"{result.GetValue(name)}\"{(pins.Count == 0 ? string.Empty : " (" + string.Join(", ", pins) + " no longer trusted)")}");
                return ExitCodes.Ok;
            }
            catch (ConfigException ex)
            {
                Console.Error.WriteLine("gatehouse unpair: " + ex.Message);
                return ExitCodes.Usage;
            }
        });
        return command;
    }

    private static async Task<int> RunAsync(PairOptions options, CancellationToken cancellationToken)
    {
        GatehouseConfig config;
        PairingPlan plan;
        ServerIdentity identity;
        try
        {
            config = ConfigLoader.Load(options.ConfigPath);
            plan = PairingPlan.From(options, config);
            identity = await LoadIdentityAsync(config, options.EnvStdin).ConfigureAwait(false);
        }
        catch (ConfigException ex)
        {
            await Console.Error.WriteLineAsync("gatehouse pair: " + ex.Message).ConfigureAwait(false);
            return ExitCodes.Usage;
        }

        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(options.Timeout);
        using var loggers = Logs.Create(Microsoft.Extensions.Logging.LogLevel.Warning);
        var confirmation = new PairingConfirmation(options.Code);
        PairingResult paired;
        try
        {
            var port = plan.AdvertisedPort ?? await PairingDiscovery.OwnGatewayPortAsync(config, identity.Pin, loggers, deadline.Token).ConfigureAwait(false);
            if (port is null)
            {
                await Console.Error.WriteLineAsync("gatehouse pair: " + PairingPlan.NoPort).ConfigureAwait(false);
                return ExitCodes.Usage;
            }

            var self = new PairingSelf(identity.Pin, port.Value, identity.Certificate.GetNameInfo(X509NameType.SimpleName, false));
            paired = await MeetAsync(plan, options, config, identity, self, confirmation, loggers, deadline.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (deadline.IsCancellationRequested)
        {
            await Console.Error.WriteLineAsync($"gatehouse pair: timed out after {options.Timeout.TotalSeconds:0} s; nothing was written").ConfigureAwait(false);
            return ExitCodes.Failure;
        }
        catch (PairingException ex)
        {
            await Console.Error.WriteLineAsync("gatehouse pair: " + ex.Message).ConfigureAwait(false);
            return ExitCodes.Failure;
        }

        var peerName = options.Name ?? PairedPeerWriter.DefaultName(config, paired.Device.Name, paired.Device.Pin);
        var address = PeerAddressText.Format(paired.Address, paired.Device.Port);
        try
        {
            PairedPeerWriter.Add(options.ConfigPath, peerName, paired.Device.Pin, address, plan.Grants);
        }
        catch (ConfigException ex)
        {
            await Console.Error.WriteLineAsync("gatehouse pair: the codes matched, but the config was not changed: " + ex.Message).ConfigureAwait(false);
            return ExitCodes.Failure;
        }

        Console.Out.WriteLine($"pair: paired with \"{peerName}\" ({paired.Device.Pin}) at {address}; it gets here: {plan.Grants}");
        Console.Out.WriteLine(config.Reload.Watch
            ? "pair: a running gatehouse with this config loads it on its own (reload.watch)"
            : "pair: send a running gatehouse SIGHUP to load it (reload.watch is off)");
        return ExitCodes.Ok;
    }

    /// <summary>Meets the other device the way the plan says: at an address given, or found on the link.</summary>
    private static async Task<PairingResult> MeetAsync(PairingPlan plan, PairOptions options, GatehouseConfig config, ServerIdentity identity, PairingSelf self, PairingConfirmation confirmation, ILoggerFactory loggers, CancellationToken cancellationToken)
    {
        if (plan.Mode == PairingMode.Connect)
        {
            return await PairingConnector.RunAsync(plan.Connect!, options.Pin, identity, self, config, confirmation, cancellationToken).ConfigureAwait(false);
        }

        if (plan.Mode is PairingMode.ConnectByName or PairingMode.LookThenWait)
        {
            var name = plan.With is null or PairingPlan.Anyone ? null : plan.With;
            Console.Out.WriteLine(name is null ? "pair: looking for a device waiting to pair on the link" : $"pair: looking for \"{name}\" waiting to pair on the link");
            IReadOnlyList<SeenGateway> found;
            try
            {
                found = await PairingDiscovery.FindAsync(config, identity.Pin, name, options.Pin, loggers, cancellationToken).ConfigureAwait(false);
            }
            catch (PairingException ex) when (plan.Mode == PairingMode.LookThenWait)
            {
                await Console.Error.WriteLineAsync($"gatehouse pair: {ex.Message}; waiting here instead").ConfigureAwait(false);
                found = [];
            }

            if (found.Count > 1)
            {
                // Two devices under one name, or several waiting: the person chooses, by name or pin; never us.
                throw new PairingException($"{found.Count} devices are waiting to pair on the link: {string.Join(", ", found.Select(PairingDiscovery.Describe))}; "
                    + (name is null ? "choose one with --with NAME" : "add --pin with the pin the one you mean shows"));
            }

            if (found.Count == 1)
            {
                var other = found[0];
                Console.Out.WriteLine($"pair: found {PairingDiscovery.Describe(other)} waiting at {string.Join(", ", other.Addresses.Select(LinkDiscovery.Display))}");
                return await PairingConnector.RunAsync([.. other.Addresses], other.Pin, identity, self, config, confirmation, cancellationToken).ConfigureAwait(false);
            }

            if (plan.Mode == PairingMode.ConnectByName)
            {
                throw new PairingException("nobody is waiting to pair on the link"); // FindAsync waits for a name; only '*' ends here
            }
        }

        // Nobody waiting (or --listen): wait here, announced on the link when listening on every address.
        var announce = PairingDiscovery.IsOn(config) && (plan.Listen.Address.Equals(IPAddress.IPv6Any) || plan.Listen.Address.Equals(IPAddress.Any))
            ? port =>
            {
                var announcement = PairingDiscovery.Announce(config, identity.Pin, port, loggers);
                Console.Out.WriteLine(announcement.Error is null
                    ? $"pair: announced on the link as \"{announcement.Options.DeviceName}\"; on the other device run `gatehouse pair` too"
                    : $"pair: not announced on the link ({announcement.Error}); on the other device use --connect with this address and port");
                return announcement;
            }
            : (Func<int, IAsyncDisposable?>?)null;
        return await PairingListener.RunAsync(plan.Listen, identity, self, config, confirmation, announce, cancellationToken).ConfigureAwait(false);
    }

    private static async Task<ServerIdentity> LoadIdentityAsync(GatehouseConfig config, bool envStdin)
    {
        // The paths as compiled: relative to the config file's folder.
        if (Model.CompiledConfig.Compile(config).Tls is not { } tls)
        {
            throw new ConfigException("$.tls: pairing presents this device's tls certificate and key; the config has none");
        }

        var passphrase = string.Empty;
        if (envStdin)
        {
            passphrase = (await StdinEnvironmentReader.ReadAsync(Console.OpenStandardInput(), TimeSpan.FromSeconds(30)).ConfigureAwait(false)).KeyPassphrase ?? string.Empty;
        }
        else if (IsEncrypted(tls.Key))
        {
            throw new ConfigException($"{tls.Key} is encrypted: echo '{{\"keyPassphrase\":\"…\"}}' | gatehouse pair --env-stdin …");
        }

        try
        {
            return ServerIdentity.Load(tls.Certificate, tls.Key, passphrase);
        }
        catch (CertificateFileException ex)
        {
            throw CertificateConfigErrors.For(config, "$.tls", ex);
        }
    }

    private static bool IsEncrypted(string keyPath)
    {
        try
        {
            return PemFiles.IsEncryptedKeyFile(keyPath);
        }
        catch (CertificateFileException)
        {
            return false; // the load that follows reports the unreadable file
        }
    }

    private static string[] Split(IEnumerable<string> values) =>
        [.. values.SelectMany(v => v.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))];
}
