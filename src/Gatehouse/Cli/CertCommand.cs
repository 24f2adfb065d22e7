using System.CommandLine;
using System.Globalization;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using Gatehouse.Wire;

namespace Gatehouse.Cli;

/// <summary>
/// <c>gatehouse cert issue</c> and <c>gatehouse cert list</c> (issue 7): a device or app certificate
/// from the user CA, and the record of what the CA issued (<c>issued.jsonl</c> next to the CA, one
/// JSON object per line). The name goes in the subject; the pin is the identity.
/// </summary>
internal static partial class CertCommand
{
    /// <summary>The CA folder's record of issued certificates, appended to, never rewritten.</summary>
    internal const string IssuedFile = "issued.jsonl";

    public static Command Create()
    {
        var caIssue = CaOption();
        var name = new Option<string>("--name") { Description = "the device or app name (certificate subject CN and file names)", Required = true };
        var output = new Option<DirectoryInfo>("--out") { Description = "folder to write NAME.crt and NAME.key to (created if missing)", Required = true };
        var noPassphrase = new Option<bool>("--no-passphrase") { Description = "write the new key unencrypted (tests and demos)" };
        var issue = new Command(
            "issue",
            "Issue a client certificate from the user CA and print its pin. stdin, one line each, in this order: " +
            "the CA key's passphrase (only if ca.key is encrypted), then the new key's passphrase (unless --no-passphrase).")
        {
            caIssue, name, output, noPassphrase,
        };
        issue.SetAction(result => Issue(result.GetValue(caIssue)!, result.GetValue(name)!, result.GetValue(output)!, result.GetValue(noPassphrase), Console.In));

        var caList = CaOption();
        var list = new Command("list", "List the certificates the CA issued: name, pin, expiry.") { caList };
        list.SetAction(result => List(result.GetValue(caList)!));

        return new Command("cert", "Issue and list device and app certificates from the user CA.") { issue, list };
    }

    private static Option<DirectoryInfo> CaOption() =>
        new("--ca") { Description = "the CA folder, holding ca.crt and ca.key (as `gatehouse init` makes it)", Required = true };

    internal static int Issue(DirectoryInfo caFolder, string name, DirectoryInfo output, bool noPassphrase, TextReader stdin)
    {
        if (!NamePattern().IsMatch(name))
        {
            return Usage($"--name \"{name}\": use letters, digits, '.', '_', '-' or '@' (at most 64, not starting with '.' or '-')");
        }

        var caCertificatePath = Path.Combine(caFolder.FullName, "ca.crt");
        var caKeyPath = Path.Combine(caFolder.FullName, "ca.key");
        if (!File.Exists(caCertificatePath) || !File.Exists(caKeyPath))
        {
            return Usage($"{caFolder.FullName}: expected ca.crt and ca.key there (see `gatehouse init`)");
        }

        var certificatePath = Path.Combine(output.FullName, name + ".crt");
        var keyPath = Path.Combine(output.FullName, name + ".key");
        var existing = new[] { certificatePath, keyPath }.Where(File.Exists).ToList();
        if (existing.Count > 0)
        {
            return Usage($"{string.Join(", ", existing)} already exist(s); refusing to overwrite");
        }

        // Read every secret before touching anything, so a missing line changes nothing on disk.
        var caPassphrase = string.Empty;
        try
        {
            if (PemFiles.IsEncryptedKeyFile(caKeyPath))
            {
                caPassphrase = stdin.ReadLine() ?? string.Empty;
                if (caPassphrase.Length == 0)
                {
                    return Usage("ca.key is encrypted; give its passphrase on stdin (line 1)");
                }
            }
        }
        catch (CertificateFileException ex)
        {
            return Usage(ex.Message);
        }

        var keyPassphrase = string.Empty;
        if (!noPassphrase)
        {
            keyPassphrase = stdin.ReadLine() ?? string.Empty;
            if (keyPassphrase.Length == 0)
            {
                return Usage("no passphrase for the new key on stdin (the line after the CA's, if any); give one, or pass --no-passphrase");
            }
        }

        X509Certificate2 ca;
        try
        {
            ca = PemFiles.LoadCertificateWithKey(caCertificatePath, caKeyPath, caPassphrase);
        }
        catch (CertificateFileException ex)
        {
            return Usage(ex.Message);
        }

        using (ca)
        {
            X509Certificate2 issued;
            try
            {
                issued = CertificateFactory.IssueClient(ca, name);
            }
            catch (Exception ex) when (ex is ArgumentException or CryptographicException)
            {
                return Usage($"cannot issue from {caCertificatePath}: {ex.Message}");
            }

            using (issued)
            {
                try
                {
                    Directory.CreateDirectory(output.FullName);
                    WriteFiles(issued, certificatePath, keyPath, keyPassphrase);
                    AppendRecord(Path.Combine(caFolder.FullName, IssuedFile), name, issued);
                }
                catch (Exception ex) when (ex is CertificateFileException or IOException or UnauthorizedAccessException)
                {
                    Console.Error.WriteLine("gatehouse: " + ex.Message);
                    return ExitCodes.Failure;
                }

                var pin = KeyPin.Compute(issued);
                Console.Error.WriteLine($"issued {name}: {certificatePath}, {keyPath} (expires {issued.NotAfter.ToUniversalTime():yyyy-MM-dd})");
                Console.Out.WriteLine(pin);
                return ExitCodes.Ok;
            }
        }
    }

    internal static int List(DirectoryInfo caFolder)
    {
        if (!File.Exists(Path.Combine(caFolder.FullName, "ca.crt")))
        {
            return Usage($"{caFolder.FullName}: no ca.crt there (see `gatehouse init`)");
        }

        var records = new List<(string Name, string Pin, DateTimeOffset NotAfter)>();
        var recordPath = Path.Combine(caFolder.FullName, IssuedFile);
        if (File.Exists(recordPath))
        {
            var lineNumber = 0;
            foreach (var line in File.ReadLines(recordPath))
            {
                lineNumber++;
                if (string.IsNullOrWhiteSpace(line))
                {
                    continue;
                }

                if (TryReadRecord(line, out var record))
                {
                    records.Add(record);
                }
                else
                {
                    Console.Error.WriteLine($"gatehouse: {recordPath}:{lineNumber}: not a certificate record; skipped");
                }
            }
        }

        var now = DateTimeOffset.UtcNow;
        var nameWidth = Math.Max("NAME".Length, records.Count == 0 ? 0 : records.Max(r => r.Name.Length));
        var pinWidth = Math.Max("PIN".Length, records.Count == 0 ? 0 : records.Max(r => r.Pin.Length));
        var table = new StringBuilder();
        table.Append("NAME".PadRight(nameWidth)).Append("  ").Append("PIN".PadRight(pinWidth)).Append("  EXPIRES\n");
        foreach (var (name, pin, notAfter) in records)
        {
            table.Append(name.PadRight(nameWidth)).Append("  ").Append(pin.PadRight(pinWidth)).Append("  ")
                .Append(notAfter.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture))
                .Append(notAfter < now ? " (expired)" : string.Empty)
                .Append('\n');
        }

        Console.Out.Write(table.ToString());
        return ExitCodes.Ok;
    }

    private static void WriteFiles(X509Certificate2 issued, string certificatePath, string keyPath, string passphrase)
    {
        using var key = (AsymmetricAlgorithm?)issued.GetECDsaPrivateKey()
            ?? issued.GetRSAPrivateKey()
            ?? throw new InvalidOperationException("issued certificate without a private key");
        // Key first, created new (never over an existing file); the certificate only once the key is down.
        PemFiles.CreatePrivateKey(keyPath, key, passphrase);
        try
        {
            using var stream = new FileStream(certificatePath, FileMode.CreateNew, FileAccess.Write);
            stream.Write(Encoding.ASCII.GetBytes(issued.ExportCertificatePem() + "\n"));
        }
        catch
        {
            File.Delete(keyPath);
            throw;
        }
    }

    /// <summary>One JSON line per certificate; flushed to disk so the record is not lost with a crash after the files.</summary>
    private static void AppendRecord(string path, string name, X509Certificate2 issued)
    {
        using var buffer = new MemoryStream();
        using (var json = new Utf8JsonWriter(buffer, new JsonWriterOptions { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping }))
        {
            json.WriteStartObject();
            json.WriteString("name", name);
            json.WriteString("pin", KeyPin.Compute(issued));
            json.WriteString("serial", issued.SerialNumber);
            json.WriteString("subject", issued.Subject);
            json.WriteString("notBefore", new DateTimeOffset(issued.NotBefore.ToUniversalTime()));
            json.WriteString("notAfter", new DateTimeOffset(issued.NotAfter.ToUniversalTime()));
            json.WriteString("issued", DateTimeOffset.UtcNow);
            json.WriteEndObject();
        }

        buffer.WriteByte((byte)'\n');
        using var stream = new FileStream(path, FileMode.Append, FileAccess.Write, FileShare.Read);
        stream.Write(buffer.GetBuffer(), 0, (int)buffer.Length);
        stream.Flush(flushToDisk: true);
    }

    private static bool TryReadRecord(string line, out (string Name, string Pin, DateTimeOffset NotAfter) record)
    {
        record = default;
        try
        {
            using var document = JsonDocument.Parse(line);
            var root = document.RootElement;
            if (root.ValueKind == JsonValueKind.Object
                && root.TryGetProperty("name", out var name) && name.ValueKind == JsonValueKind.String
                && root.TryGetProperty("pin", out var pin) && pin.ValueKind == JsonValueKind.String
                && root.TryGetProperty("notAfter", out var notAfter) && notAfter.TryGetDateTimeOffset(out var expiry))
            {
                record = (name.GetString()!, pin.GetString()!, expiry.ToUniversalTime());
                return true;
            }
        }
        catch (JsonException)
        {
            // reported by the caller
        }

        return false;
    }

    private static int Usage(string message)
    {
        Console.Error.WriteLine("gatehouse: " + message);
        return ExitCodes.Usage;
    }

    /// <summary>Safe as a file name and a CN: no path separators, no leading dot or dash.</summary>
    [GeneratedRegex("^[A-Za-z0-9_@][A-Za-z0-9._@-]{0,63}$", RegexOptions.CultureInvariant)]
    private static partial Regex NamePattern();
}
