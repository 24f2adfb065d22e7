using System.CommandLine;
using System.Security.Cryptography;
using Gatehouse.Wire;

namespace Gatehouse.Cli;

/// <summary>
/// <c>gatehouse key rekey KEYFILE</c>: changes a private key's passphrase in place (issue 7).
/// Passphrases come on stdin, never argv: line 1 the current one (an empty line when the key is not
/// encrypted), line 2 the new one. The file is replaced atomically (temporary file in the same folder,
/// created 0600, flushed, renamed), and with a new passphrase no plaintext key ever reaches the disk.
/// Writing the key unencrypted needs <c>--to-plaintext</c>.
/// </summary>
internal static class KeyCommand
{
    public static Command Create()
    {
        var file = new Argument<FileInfo>("KEYFILE") { Description = "a PEM private key (ENCRYPTED PRIVATE KEY, PRIVATE KEY, EC or RSA PRIVATE KEY)" };
        var toPlaintext = new Option<bool>("--to-plaintext") { Description = "write the key unencrypted (no new passphrase is read); for test setups only" };
        var noPassphrase = new Option<bool>("--no-passphrase") { Description = "the same as --to-plaintext, which must be given as well" };
        var rekey = new Command(
            "rekey",
            "Change a key's passphrase in place. stdin line 1: the current passphrase (empty line if unencrypted); line 2: the new one.")
        {
            file, toPlaintext, noPassphrase,
        };
        rekey.SetAction(result => Rekey(result.GetValue(file)!, result.GetValue(toPlaintext), result.GetValue(noPassphrase), Console.In));

        return new Command("key", "Manage private key files.") { rekey };
    }

    internal static int Rekey(FileInfo file, bool toPlaintext, bool noPassphrase, TextReader stdin)
    {
        if (noPassphrase && !toPlaintext)
        {
            return Usage("--no-passphrase would write the key unencrypted; confirm with --to-plaintext");
        }

        var path = file.FullName;
        if (!file.Exists)
        {
            return Usage($"{path}: no such key file");
        }

        bool encrypted;
        try
        {
            encrypted = PemFiles.IsEncryptedKeyFile(path);
        }
        catch (CertificateFileException ex)
        {
            return Usage(ex.Message);
        }

        var oldPassphrase = stdin.ReadLine();
        if (oldPassphrase is null)
        {
            return Usage("rekey reads the current passphrase from stdin line 1 (an empty line if the key is not encrypted)");
        }

        if (encrypted && oldPassphrase.Length == 0)
        {
            return Usage($"{file.Name}: key is encrypted; give its passphrase on stdin line 1");
        }

        var newPassphrase = string.Empty;
        if (!toPlaintext)
        {
            newPassphrase = stdin.ReadLine() ?? string.Empty;
            if (newPassphrase.Length == 0)
            {
                return Usage("no new passphrase on stdin line 2; refusing to write the key unencrypted (pass --to-plaintext for that)");
            }
        }

        AsymmetricAlgorithm key;
        try
        {
            key = PemFiles.LoadPrivateKey(path, encrypted ? oldPassphrase : string.Empty);
        }
        catch (CertificateFileException ex)
        {
            // A wrong current passphrase ends here: exit 2, the file untouched.
            return Usage(ex.Message);
        }

        using (key)
        {
            try
            {
                PemFiles.ReplacePrivateKey(path, key, newPassphrase);
            }
            catch (CertificateFileException ex)
            {
                Console.Error.WriteLine("gatehouse: " + ex.Message);
                return ExitCodes.Failure;
            }
        }

        Console.Out.WriteLine(toPlaintext
            ? $"{path}: written unencrypted"
            : $"{path}: encrypted with the new passphrase (PBES2, AES-256-CBC, PBKDF2-SHA256)");
        return ExitCodes.Ok;
    }

    private static int Usage(string message)
    {
        Console.Error.WriteLine("gatehouse: " + message);
        return ExitCodes.Usage;
    }
}
