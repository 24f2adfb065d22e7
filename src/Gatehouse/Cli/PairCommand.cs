using System.CommandLine;
using System.Security.Cryptography.X509Certificates;
using Gatehouse.Config;
using Gatehouse.Pairing;
using Gatehouse.Wire;

namespace Gatehouse.Cli;

/// <summary>
/// <c>gatehouse pair</c> (issue 21 item 2): two devices meet over mutual TLS, each presenting its
/// own key, show the same 6-digit code, and once the person confirmed it on both, each adds the
/// other to its peer table. One side listens (<c>--listen</c>, the default), the other connects
/// (<c>--connect</c>). See <see cref="PairingSession"/> for the exchange and docs/pairing.md.
/// </summary>
internal static class PairCommand
{
    public static Command Create()
    {
        var config = new Option<FileInfo>("--config", "-c") { Description = "this device's config; its tls certificate and key are presented, and the other device is added to it", Required = true };
        var listen = new Option<string?>("--listen") { Description = "wait for the other device on ADDR:PORT (default [::]:0, any free port; the chosen one is printed)" };
        var connect = new Option<string?>("--connect") { Description = "connect to the other device's `gatehouse pair --listen`: host:port, [v6]:port or [fe80::1%eth0]:port" };
        var pin = new Option<string?>("--pin") { Description = "with --connect: the pin the listener printed; any other key is refused before anything is sent" };
        var code = new Option<string?>("--code") { Description = "the code the other device shows, given in advance instead of typing yes (for the second device)" };
        var grant = new Option<string?>("--grant") { Description = "CouchDB access the other device gets here, e.g. pull,push (default: peer link only, no database)" };
        var databases = new Option<string[]>("--databases") { Description = "database patterns the grant applies to, e.g. 'novacut-0-*' (comma-separated or repeated)", AllowMultipleArgumentsPerToken = false };
        var name = new Option<string?>("--name") { Description = "the name to record the other device under (default: the name it gives, made unique)" };
        var port = new Option<int?>("--port") { Description = "the port this device's gateway listens on, told to the other device (default: the config's first TLS listener, if it has a fixed port)" };
        var envStdin = new Option<bool>("--env-stdin") { Description = "read {\"keyPassphrase\": \"…\"} from stdin first (an encrypted key)" };
        var timeout = new Option<int>("--timeout") { Description = "give up after this many seconds", DefaultValueFactory = _ => 120 };
        var command = new Command("pair", "Pair with another device: both show a 6-digit code; confirm it on both, and each adds the other to its peer table.")
        {
            config, listen, connect, pin, code, grant, databases, name, port, envStdin, timeout,
        };
        command.SetAction((result, cancellationToken) =>
        {
            var options = new PairOptions(
                result.GetValue(config)!.FullName,
                result.GetValue(listen),
                result.GetValue(connect),
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
        var confirmation = new PairingConfirmation(options.Code);
        var self = new PairingSelf(identity.Pin, plan.AdvertisedPort, identity.Certificate.GetNameInfo(X509NameType.SimpleName, false));
        PairingResult paired;
        try
        {
            paired = plan.Connect is { } endPoint
                ? await PairingConnector.RunAsync(endPoint, options.Pin, identity, self, config, confirmation, deadline.Token).ConfigureAwait(false)
                : await PairingListener.RunAsync(plan.Listen, identity, self, config, confirmation, deadline.Token).ConfigureAwait(false);
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
