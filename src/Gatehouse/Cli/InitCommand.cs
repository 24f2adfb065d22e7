using System.CommandLine;
using System.Net;
using System.Security.Cryptography.X509Certificates;
using Gatehouse.Wire;

namespace Gatehouse.Cli;

/// <summary>
/// <c>gatehouse init DIR</c>: a user CA (ECDSA P-256), a server certificate for this device, a
/// first client certificate for the user, and a starter config pointing at them. Keys are
/// encrypted with a passphrase read from stdin unless <c>--no-passphrase</c> (test setups).
/// </summary>
internal static class InitCommand
{
    private static readonly string[] Files = ["ca.crt", "ca.key", "server.crt", "server.key", "client.crt", "client.key", "gatehouse.json"];

    public static Command Create()
    {
        var directory = new Argument<DirectoryInfo>("DIR") { Description = "folder to create the identity and config in" };
        var noPassphrase = new Option<bool>("--no-passphrase") { Description = "write unencrypted keys (for tests and demos); otherwise the passphrase is read from stdin" };
        var name = new Option<string>("--name") { Description = "this device's name, used in certificate subjects and announced on the local link", DefaultValueFactory = _ => Dns.GetHostName() };
        var command = new Command("init", "Create a user CA, a server and a client certificate, and a starter config.") { directory, noPassphrase, name };
        command.SetAction(result => Run(result.GetValue(directory)!, result.GetValue(noPassphrase), result.GetValue(name)!));
        return command;
    }

    private const int MinPassphraseLength = 12;

    private static int Run(DirectoryInfo directory, bool noPassphrase, string deviceName)
    {
        var existing = Files.Where(f => File.Exists(Path.Combine(directory.FullName, f))).ToList();
        if (existing.Count > 0)
        {
            Console.Error.WriteLine($"gatehouse: {directory.FullName} already holds {string.Join(", ", existing)}; refusing to overwrite");
            return ExitCodes.Usage;
        }

        var passphrase = string.Empty;
        if (!noPassphrase)
        {
            passphrase = Console.In.ReadLine() ?? string.Empty;
            if (passphrase.Length == 0)
            {
                Console.Error.WriteLine("gatehouse: init reads the key passphrase from stdin; give one, or pass --no-passphrase");
                return ExitCodes.Usage;
            }

            if (passphrase.Length < MinPassphraseLength)
            {
                // The CA key signs every device's key: a short passphrase guards it poorly once the file is copied.
                Console.Error.WriteLine($"gatehouse: warning: the passphrase has {passphrase.Length} characters; {MinPassphraseLength} or more keep the CA key safer if the file is copied (change it later with `gatehouse key rekey`)");
            }
        }

        Directory.CreateDirectory(directory.FullName);
        Directory.CreateDirectory(Path.Combine(directory.FullName, "store"));
        using var ca = CertificateFactory.CreateCertificateAuthority($"Gatehouse user CA ({deviceName})");
        using var server = CertificateFactory.IssueServer(ca, deviceName, ["localhost", deviceName], [IPAddress.Loopback, IPAddress.IPv6Loopback]);
        using var client = CertificateFactory.IssueClient(ca, $"{Environment.UserName}@{deviceName}");

        Write(directory, "ca", ca, passphrase);
        Write(directory, "server", server, passphrase);
        Write(directory, "client", client, passphrase);
        // The name given is also what the device announces on the link (and pairs under), when it fits a DNS-SD label.
        var discoveryName = Discovery.DeviceName.IsValid(deviceName) ? $", \"name\": \"{deviceName}\"" : string.Empty;
        File.WriteAllText(Path.Combine(directory.FullName, "gatehouse.json"), StarterConfig.Replace("\"enabled\": true }", "\"enabled\": true" + discoveryName + " }", StringComparison.Ordinal));

        Console.Out.WriteLine($"created {directory.FullName}");
        Console.Out.WriteLine($"  server pin: {KeyPin.Compute(server)}");
        Console.Out.WriteLine($"  client pin: {KeyPin.Compute(client)}");
        Console.Out.WriteLine($"run: gatehouse serve --config {Path.Combine(directory.FullName, "gatehouse.json")}{(noPassphrase ? string.Empty : " --env-stdin  (stdin: {\"keyPassphrase\": \"…\"})")}");
        return ExitCodes.Ok;
    }

    private static void Write(DirectoryInfo directory, string name, X509Certificate2 certificate, string passphrase)
    {
        PemFiles.WriteCertificate(Path.Combine(directory.FullName, name + ".crt"), certificate);
        using var key = (System.Security.Cryptography.AsymmetricAlgorithm?)certificate.GetECDsaPrivateKey()
            ?? certificate.GetRSAPrivateKey()
            ?? throw new InvalidOperationException("certificate without a private key");
        PemFiles.WritePrivateKey(Path.Combine(directory.FullName, name + ".key"), key, passphrase);
    }

    /// <summary>The starter profile: this user's devices (certificates from the user CA) get the file store.</summary>
    private const string StarterConfig = """
        {
          // Created by `gatehouse init`. Relative paths are relative to this file.
          "listen": [
            { "address": "::", "port": 0, "tls": true, "clientCertificate": "required" }
          ],
          "tls": { "certificate": "server.crt", "key": "server.key" },
          "trust": {
            "cas": [ { "name": "user", "certificate": "ca.crt" } ],
            "pins": [],
            "deny": []
          },
          "routes": [
            { "kind": "files", "prefix": "/files/", "stores": [ "store" ] }
          ],
          "rules": [
            { "principals": [ "ca:user" ], "role": "device", "files": [ "read", "write" ] }
          ],
          // Announce this gateway on the local link and see others (`gatehouse peers`); issue 21.
          "discovery": { "enabled": true }
        }

        """;
}
