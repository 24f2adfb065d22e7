using System.Buffers;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;

namespace Gatehouse.Wire;

/// <summary>
/// Reads and writes the PEM files the user keeps: certificates (RFC 7468 §5), private keys as
/// PKCS#8 (RFC 7468 §10), encrypted PKCS#8 with PBES2 (RFC 7468 §11, RFC 8018), SEC1 EC keys
/// (RFC 5915) and PKCS#1 RSA keys. Errors are <see cref="CertificateFileException"/> naming the file.
/// </summary>
public static class PemFiles
{
    /// <summary>600,000 PBKDF2-SHA256 iterations: OWASP's 2023 recommendation for PBKDF2-HMAC-SHA256.</summary>
    internal const int KeyIterations = 600_000;

    /// <summary>How an encrypted key file is protected (PBES2, AES-256-CBC, PBKDF2-SHA256).</summary>
    internal static PbeParameters KeyEncryption { get; } = new(PbeEncryptionAlgorithm.Aes256Cbc, HashAlgorithmName.SHA256, KeyIterations);

    private const string EncryptedKeyLabel = "ENCRYPTED PRIVATE KEY";

    /// <summary>Loads the first certificate of a PEM file (a DER file is accepted too).</summary>
    public static X509Certificate2 LoadCertificate(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        byte[] bytes = ReadFile(path, "certificate");
        string text = Encoding.ASCII.GetString(bytes);
        try
        {
            if (text.Contains("-----BEGIN", StringComparison.Ordinal))
            {
                return X509Certificate2.CreateFromPem(text);
            }

            return X509CertificateLoader.LoadCertificate(bytes);
        }
        catch (CryptographicException ex)
        {
            throw CertificateFileException.For(path, "no readable certificate (expected PEM 'BEGIN CERTIFICATE')", ex);
        }
    }

    /// <summary>
    /// Loads a certificate and its private key, ready for <see cref="System.Net.Security.SslStream"/>.
    /// The key may be plain PKCS#8, SEC1 EC, PKCS#1 RSA, or <c>ENCRYPTED PRIVATE KEY</c> (PKCS#8 PBES2),
    /// which needs <paramref name="passphrase"/>.
    /// </summary>
    public static X509Certificate2 LoadCertificateWithKey(string certPath, string keyPath, ReadOnlySpan<char> passphrase)
    {
        ArgumentException.ThrowIfNullOrEmpty(keyPath);
        using X509Certificate2 certificate = LoadCertificate(certPath);

        byte[] keyBytes = ReadFile(keyPath, "private key");
        char[] keyText = new char[Encoding.ASCII.GetCharCount(keyBytes)];
        try
        {
            Encoding.ASCII.GetChars(keyBytes, keyText);
            using AsymmetricAlgorithm key = ImportKey(certificate, keyPath, keyText, passphrase);
            return AttachKey(certificate, key, keyPath, certPath);
        }
        finally
        {
            // The key file's plaintext must not linger in the managed heap longer than needed.
            CryptographicOperations.ZeroMemory(keyBytes);
            Array.Clear(keyText);
        }
    }

    /// <summary>Writes a certificate as PEM (public data; the file gets the usual umask mode).</summary>
    public static void WriteCertificate(string path, X509Certificate2 cert)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        ArgumentNullException.ThrowIfNull(cert);
        try
        {
            File.WriteAllText(path, cert.ExportCertificatePem() + "\n", Encoding.ASCII);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw CertificateFileException.For(path, "cannot write: " + ex.Message, ex);
        }
    }

    /// <summary>
    /// Writes a private key as PEM, mode 0600 from creation on. A non-empty <paramref name="passphrase"/>
    /// writes <c>ENCRYPTED PRIVATE KEY</c> (PBES2: AES-256-CBC, PBKDF2-SHA256, 600,000 iterations);
    /// an empty one writes plain PKCS#8. The plaintext never touches a temporary file.
    /// </summary>
    public static void WritePrivateKey(string path, AsymmetricAlgorithm key, ReadOnlySpan<char> passphrase)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        ArgumentNullException.ThrowIfNull(key);

        byte[] bytes = ExportPemBytes(key, passphrase, out int count);
        try
        {
            WriteSecretFile(path, bytes.AsSpan(0, count));
        }
        finally
        {
            ReturnCleared(bytes);
        }
    }

    /// <summary>
    /// Like <see cref="WritePrivateKey"/>, but refuses to replace an existing file
    /// (<see cref="CertificateFileException"/> naming it): for keys issued next to others.
    /// </summary>
    public static void CreatePrivateKey(string path, AsymmetricAlgorithm key, ReadOnlySpan<char> passphrase)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        ArgumentNullException.ThrowIfNull(key);

        byte[] bytes = ExportPemBytes(key, passphrase, out int count);
        try
        {
            CreateSecretFile(path, bytes.AsSpan(0, count));
        }
        finally
        {
            ReturnCleared(bytes);
        }
    }

    /// <summary>True when the key file holds an <c>ENCRYPTED PRIVATE KEY</c> (so a passphrase is needed to read it).</summary>
    /// <exception cref="CertificateFileException">The file is missing or unreadable.</exception>
    public static bool IsEncryptedKeyFile(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        byte[] bytes = ReadFile(path, "private key");
        try
        {
            return bytes.AsSpan().IndexOf("-----BEGIN ENCRYPTED PRIVATE KEY-----"u8) >= 0;
        }
        finally
        {
            CryptographicOperations.ZeroMemory(bytes);
        }
    }

    /// <summary>
    /// Loads a private key on its own, without its certificate (for <c>gatehouse key rekey</c>): ECDSA
    /// or RSA, plain (PKCS#8, SEC1, PKCS#1) or <c>ENCRYPTED PRIVATE KEY</c>, which needs <paramref name="passphrase"/>.
    /// </summary>
    /// <exception cref="CertificateFileException">Missing file, wrong passphrase, or no ECDSA/RSA key in it.</exception>
    public static AsymmetricAlgorithm LoadPrivateKey(string path, ReadOnlySpan<char> passphrase)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        byte[] keyBytes = ReadFile(path, "private key");
        char[] keyText = new char[Encoding.ASCII.GetCharCount(keyBytes)];
        try
        {
            Encoding.ASCII.GetChars(keyBytes, keyText);
            bool encrypted = keyText.AsSpan().IndexOf(EncryptedKeyLabel, StringComparison.Ordinal) >= 0;
            if (encrypted && passphrase.IsEmpty)
            {
                throw CertificateFileException.For(path, "key is encrypted; a passphrase is needed");
            }

            // Without a certificate the key type is unknown: PKCS#8 carries it only inside the
            // (possibly encrypted) structure, so try each type we write and read.
            Exception? last = null;
            foreach (Func<AsymmetricAlgorithm> create in (Func<AsymmetricAlgorithm>[])[ECDsa.Create, RSA.Create])
            {
                AsymmetricAlgorithm key = create();
                try
                {
                    if (encrypted)
                    {
                        key.ImportFromEncryptedPem(keyText, passphrase);
                    }
                    else
                    {
                        key.ImportFromPem(keyText);
                    }

                    return key;
                }
                catch (Exception ex) when (ex is CryptographicException or ArgumentException)
                {
                    key.Dispose();
                    last = ex;
                }
            }

            throw CertificateFileException.For(
                path,
                encrypted ? "wrong passphrase or corrupt key" : "no private key found (expected PEM 'BEGIN PRIVATE KEY' or 'BEGIN ENCRYPTED PRIVATE KEY')",
                last);
        }
        finally
        {
            CryptographicOperations.ZeroMemory(keyBytes);
            Array.Clear(keyText);
        }
    }

    /// <summary>
    /// Replaces a private key file atomically (for <c>gatehouse key rekey</c>): the new PEM (encrypted
    /// when <paramref name="passphrase"/> is non-empty, as in <see cref="WritePrivateKey"/>) goes to a
    /// temporary file in the same folder, created 0600, flushed to disk, then renamed over
    /// <paramref name="path"/>. A crash leaves either the old file or the new one, never a torn one;
    /// with a passphrase, no plaintext key is ever written, not even to the temporary file.
    /// </summary>
    public static void ReplacePrivateKey(string path, AsymmetricAlgorithm key, ReadOnlySpan<char> passphrase)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        ArgumentNullException.ThrowIfNull(key);

        string fullPath = Path.GetFullPath(path);
        string folder = Path.GetDirectoryName(fullPath) ?? ".";
        string temporary = Path.Combine(folder, $".{Path.GetFileName(fullPath)}.{Convert.ToHexString(RandomNumberGenerator.GetBytes(6))}.tmp");
        byte[] bytes = ExportPemBytes(key, passphrase, out int count);
        try
        {
            CreateSecretFile(temporary, bytes.AsSpan(0, count));
            try
            {
                // rename(2): atomic within one file system, which the same folder guarantees.
                File.Move(temporary, fullPath, overwrite: true);
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                File.Delete(temporary);
                throw CertificateFileException.For(path, "cannot replace: " + ex.Message, ex);
            }
        }
        finally
        {
            ReturnCleared(bytes);
        }
    }

    /// <summary>The key as PEM bytes plus a newline, in a pooled array the caller must give to <see cref="ReturnCleared"/>.</summary>
    private static byte[] ExportPemBytes(AsymmetricAlgorithm key, ReadOnlySpan<char> passphrase, out int count)
    {
        char[] pem = ExportPem(key, passphrase, out int length);
        try
        {
            byte[] bytes = ArrayPool<byte>.Shared.Rent(length + 1);
            count = Encoding.ASCII.GetBytes(pem, 0, length, bytes, 0);
            bytes[count++] = (byte)'\n';
            return bytes;
        }
        finally
        {
            Array.Clear(pem);
        }
    }

    private static void ReturnCleared(byte[] bytes)
    {
        CryptographicOperations.ZeroMemory(bytes);
        ArrayPool<byte>.Shared.Return(bytes);
    }

    private static byte[] ReadFile(string path, string what)
    {
        try
        {
            return File.ReadAllBytes(path);
        }
        catch (FileNotFoundException ex)
        {
            throw CertificateFileException.For(path, $"{what} file not found ({path})", ex);
        }
        catch (DirectoryNotFoundException ex)
        {
            throw CertificateFileException.For(path, $"{what} file not found ({path})", ex);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw CertificateFileException.For(path, $"cannot read {what}: {ex.Message}", ex);
        }
    }

    private static AsymmetricAlgorithm ImportKey(X509Certificate2 certificate, string keyPath, ReadOnlySpan<char> pem, ReadOnlySpan<char> passphrase)
    {
        AsymmetricAlgorithm key = certificate.PublicKey.Oid.Value switch
        {
            Oids.EcPublicKey => ECDsa.Create(),
            Oids.RsaEncryption => RSA.Create(),
            string other => throw CertificateFileException.For(keyPath, $"unsupported key algorithm {other} (ECDSA or RSA expected)"),
            null => throw CertificateFileException.For(keyPath, "certificate names no key algorithm"),
        };

        try
        {
            if (pem.IndexOf(EncryptedKeyLabel, StringComparison.Ordinal) >= 0)
            {
                if (passphrase.IsEmpty)
                {
                    throw CertificateFileException.For(keyPath, "key is encrypted; a passphrase is needed");
                }

                key.ImportFromEncryptedPem(pem, passphrase);
            }
            else
            {
                // ImportFromPem finds PRIVATE KEY, EC PRIVATE KEY or RSA PRIVATE KEY and skips other labels.
                key.ImportFromPem(pem);
            }

            return key;
        }
        catch (CryptographicException ex)
        {
            key.Dispose();
            throw CertificateFileException.For(keyPath, passphrase.IsEmpty ? "corrupt key or not the certificate's key type" : "wrong passphrase or corrupt key", ex);
        }
        catch (ArgumentException ex)
        {
            key.Dispose();
            throw CertificateFileException.For(keyPath, "no private key found (expected PEM 'BEGIN PRIVATE KEY' or 'BEGIN ENCRYPTED PRIVATE KEY')", ex);
        }
        catch (CertificateFileException)
        {
            key.Dispose();
            throw;
        }
    }

    private static X509Certificate2 AttachKey(X509Certificate2 certificate, AsymmetricAlgorithm key, string keyPath, string certPath)
    {
        try
        {
            using X509Certificate2 withKey = key switch
            {
                ECDsa ec => certificate.CopyWithPrivateKey(ec),
                RSA rsa => certificate.CopyWithPrivateKey(rsa),
                _ => throw new InvalidOperationException("unreachable: ImportKey makes only ECDsa or RSA"),
            };
            return CertificateKeys.MakeUsableForTls(withKey);
        }
        catch (ArgumentException ex)
        {
            throw CertificateFileException.For(keyPath, $"key does not match the certificate in {Path.GetFileName(certPath)}", ex);
        }
    }

    private static char[] ExportPem(AsymmetricAlgorithm key, ReadOnlySpan<char> passphrase, out int length)
    {
        // Export into char arrays we can clear afterwards, rather than into an immutable string.
        for (int size = 4096; ; size *= 2)
        {
            char[] buffer = new char[size];
            bool done = passphrase.IsEmpty
                ? key.TryExportPkcs8PrivateKeyPem(buffer, out length)
                : key.TryExportEncryptedPkcs8PrivateKeyPem(passphrase, KeyEncryption, buffer, out length);
            if (done)
            {
                return buffer;
            }

            Array.Clear(buffer);
        }
    }

    private static void WriteSecretFile(string path, ReadOnlySpan<byte> content)
    {
        try
        {
            // UnixCreateMode applies only to a new file, so an existing one is removed first
            // rather than rewritten in place with whatever mode it had.
            File.Delete(path);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw CertificateFileException.For(path, "cannot write: " + ex.Message, ex);
        }

        CreateSecretFile(path, content);
    }

    /// <summary>Creates a new file, mode 0600 from creation on, writes it and flushes it to disk; fails if it exists.</summary>
    private static void CreateSecretFile(string path, ReadOnlySpan<byte> content)
    {
        var options = new FileStreamOptions
        {
            Mode = FileMode.CreateNew,
            Access = FileAccess.Write,
            Share = FileShare.None,
        };
        if (!OperatingSystem.IsWindows())
        {
            // Created 0600, not chmod-ed later: there is no moment at which others may read it.
            options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        }

        try
        {
            using var stream = new FileStream(path, options);
            stream.Write(content);
            stream.Flush(flushToDisk: true);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw CertificateFileException.For(path, "cannot write: " + ex.Message, ex);
        }
    }
}
