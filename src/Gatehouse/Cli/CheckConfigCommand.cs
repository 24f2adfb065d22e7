using System.CommandLine;
using System.Security.Cryptography.X509Certificates;
using Gatehouse.Config;
using Gatehouse.Model;
using Gatehouse.Wire;

namespace Gatehouse.Cli;

/// <summary>
/// <c>gatehouse check-config FILE [--env-stdin]</c>: validates a config and the certificates it
/// names (readable, key matches, expiry, CA chain) without listening, and prints what it would serve.
/// </summary>
internal static class CheckConfigCommand
{
    private static readonly TimeSpan ExpiryWarning = TimeSpan.FromDays(30);

    public static Command Create()
    {
        var file = new Argument<FileInfo>("FILE") { Description = "the JSON config file" };
        var envStdin = new Option<bool>("--env-stdin") { Description = "read the stdin environment too (needed to open an encrypted server key)" };
        var command = new Command("check-config", "Validate a config and its certificates, and print what it would serve.") { file, envStdin };
        command.SetAction(async (result, _) =>
        {
            try
            {
                var config = CompiledConfig.Compile(ConfigLoader.Load(result.GetValue(file)!.FullName));
                var environment = result.GetValue(envStdin)
                    ? await StdinEnvironmentReader.ReadAsync(Console.OpenStandardInput(), TimeSpan.FromSeconds(30)).ConfigureAwait(false)
                    : null;
                var warnings = Check(config, environment);
                Describe(config);
                foreach (var warning in warnings)
                {
                    await Console.Error.WriteLineAsync("gatehouse: warning: " + warning).ConfigureAwait(false);
                }

                return ExitCodes.Ok;
            }
            catch (ConfigException ex)
            {
                await Console.Error.WriteLineAsync("gatehouse: " + ex.Message).ConfigureAwait(false);
                return ExitCodes.Usage;
            }
        });
        return command;
    }

    private static List<string> Check(CompiledConfig config, StdinEnvironment? environment)
    {
        var warnings = new List<string>();
        var cas = new List<(string Name, X509Certificate2 Certificate)>();
        for (var i = 0; i < config.Cas.Count; i++)
        {
            var ca = config.Cas[i];
            var certificate = Load(config, $"$.trust.cas[{i}].certificate", () => PemFiles.LoadCertificate(ca.Certificate));
            cas.Add((ca.Name, certificate));
            WarnOnExpiry(warnings, $"CA \"{ca.Name}\" ({ca.Certificate})", certificate);
        }

        if (config.Tls is { } tls && config.HasTlsListener)
        {
            using var server = environment is null && IsEncrypted(tls.Key)
                ? Load(config, "$.tls.certificate", () => PemFiles.LoadCertificate(tls.Certificate))
                : Load(config, "$.tls", () => PemFiles.LoadCertificateWithKey(tls.Certificate, tls.Key, environment?.KeyPassphrase ?? string.Empty));
            if (environment is null && IsEncrypted(tls.Key))
            {
                warnings.Add($"{tls.Key} is encrypted; pass --env-stdin with keyPassphrase to check it opens");
            }

            WarnOnExpiry(warnings, $"server certificate ({tls.Certificate})", server);
            Console.Out.WriteLine($"server pin: {KeyPin.Compute(server)}");
        }

        foreach (var (_, certificate) in cas)
        {
            certificate.Dispose();
        }

        return warnings;
    }

    private static void Describe(CompiledConfig config)
    {
        foreach (var listen in config.Listeners)
        {
            var mode = listen.Tls ? $"tls, client certificate {listen.ClientCertificate}" : listen.Local ? "plain, local" : "plain";
            Console.Out.WriteLine($"listen: {listen.Address} port {(listen.Port == 0 ? "any" : listen.Port.ToString(System.Globalization.CultureInfo.InvariantCulture))} ({mode})");
        }

        Console.Out.WriteLine($"route: {Model.RouteTable.WhoAmIPath} (whoami, every principal)");
        foreach (var (route, compiled) in config.Source.Routes.Zip(config.Routes))
        {
            var target = route.Kind switch
            {
                "files" => "stores " + string.Join(", ", compiled.Stores),
                "proxy" => "backend " + route.Backend,
                _ => "CouchDB from the stdin environment; who created what recorded in "
                    + (route.Provenance is { } provenance
                        ? $"{provenance.Database} with the \"{provenance.Role}\" credential (required)"
                        : $"{ProvenanceConfig.DefaultDatabase} when stdin has a \"{ProvenanceConfig.DefaultRole}\" credential"),
            };
            Console.Out.WriteLine($"route: {compiled.Prefix} ({route.Kind}, {target})");
        }

        foreach (var rule in config.Source.Rules)
        {
            var grants = new List<string>();
            if (rule.Couchdb is { } couch)
            {
                grants.Add($"couchdb {string.Join("/", couch.Allow)} on {string.Join(", ", couch.Databases)}");
            }

            if (rule.Files is { Count: > 0 } files)
            {
                grants.Add("files " + string.Join("/", files));
            }

            if (rule.Proxy is { Count: > 0 } proxies)
            {
                grants.Add("proxy " + string.Join(", ", proxies));
            }

            Console.Out.WriteLine($"rule: {string.Join(", ", rule.Principals)}{(rule.Role is null ? string.Empty : $" as {rule.Role}")}: {(grants.Count == 0 ? "nothing" : string.Join("; ", grants))}");
        }

        Console.Out.WriteLine("ok");
    }

    /// <summary>PemFiles' check (it wipes the key bytes it read); a missing file is reported by the key load that follows.</summary>
    private static bool IsEncrypted(string keyPath)
    {
        try
        {
            return PemFiles.IsEncryptedKeyFile(keyPath);
        }
        catch (CertificateFileException)
        {
            return false;
        }
    }

    private static void WarnOnExpiry(List<string> warnings, string what, X509Certificate2 certificate)
    {
        var now = DateTime.UtcNow;
        if (certificate.NotAfter.ToUniversalTime() < now)
        {
            throw new ConfigException($"{what} expired on {certificate.NotAfter.ToUniversalTime():yyyy-MM-dd}");
        }

        if (certificate.NotBefore.ToUniversalTime() > now)
        {
            throw new ConfigException($"{what} is not valid before {certificate.NotBefore.ToUniversalTime():yyyy-MM-dd}");
        }

        if (certificate.NotAfter.ToUniversalTime() - now < ExpiryWarning)
        {
            warnings.Add($"{what} expires on {certificate.NotAfter.ToUniversalTime():yyyy-MM-dd}");
        }
    }

    private static X509Certificate2 Load(CompiledConfig config, string field, Func<X509Certificate2> load)
    {
        try
        {
            return load();
        }
        catch (CertificateFileException ex)
        {
            throw CertificateConfigErrors.For(config.Source, field, ex);
        }
    }
}
