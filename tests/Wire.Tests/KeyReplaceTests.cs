using System.Security.Cryptography;
using Gatehouse.Wire;

namespace Gatehouse.Wire.Tests;

/// <summary>
/// <see cref="PemFiles.LoadPrivateKey"/> and <see cref="PemFiles.ReplacePrivateKey"/>, the parts of
/// <c>gatehouse key rekey</c> (issue 7): keys openssl wrote are read, keys we write openssl reads,
/// the replacement is atomic and never leaves a temporary or plaintext file behind.
/// </summary>
public sealed class KeyReplaceTests
{
    [Theory]
    [InlineData("openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 | openssl pkcs8 -topk8 -v2 aes256 -passout pass:old -out k.pem", "old")]
    [InlineData("openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 | openssl pkcs8 -topk8 -v2 aes256 -passout pass:old -out k.pem", "old")]
    [InlineData("openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out k.pem", "")]
    [InlineData("openssl ecparam -name prime256v1 -genkey -noout -out k.pem", "")]
    [InlineData("openssl genrsa -traditional -out k.pem 2048", "")]
    [System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
    public void RekeysWhatOpensslWroteAndOpensslReadsTheResult(string generate, string oldPassphrase)
    {
        using var dir = new TempDir();
        Openssl.Shell(generate, dir.Path);
        string before = Openssl.Shell($"openssl pkey -in k.pem {(oldPassphrase.Length > 0 ? "-passin pass:" + oldPassphrase : "")} -pubout", dir.Path);

        using (AsymmetricAlgorithm key = PemFiles.LoadPrivateKey(dir.File("k.pem"), oldPassphrase))
        {
            PemFiles.ReplacePrivateKey(dir.File("k.pem"), key, "new passphrase");
        }

        string text = File.ReadAllText(dir.File("k.pem"));
        Assert.StartsWith("-----BEGIN ENCRYPTED PRIVATE KEY-----", text, StringComparison.Ordinal);
        Assert.Contains("aes-256-cbc", Openssl.Shell("openssl asn1parse -in k.pem", dir.Path), StringComparison.OrdinalIgnoreCase);
        Assert.Equal(before, Openssl.Shell("openssl pkey -in k.pem -passin 'pass:new passphrase' -pubout", dir.Path));
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(dir.File("k.pem")));
        Assert.Equal(["k.pem"], Directory.GetFiles(dir.Path).Select(Path.GetFileName));
    }

    [Fact]
    public void AWrongPassphraseIsAClearErrorAndTheFileStaysAsItWas()
    {
        using var dir = new TempDir();
        Openssl.Shell("openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 | openssl pkcs8 -topk8 -v2 aes256 -passout pass:right -out k.pem", dir.Path);
        byte[] original = File.ReadAllBytes(dir.File("k.pem"));

        CertificateFileException error = Assert.Throws<CertificateFileException>(() => PemFiles.LoadPrivateKey(dir.File("k.pem"), "wrong"));

        Assert.Equal("k.pem: wrong passphrase or corrupt key", error.Message);
        Assert.Equal(original, File.ReadAllBytes(dir.File("k.pem")));
    }

    [Fact]
    public void AnEncryptedKeyNeedsAPassphrase()
    {
        using var dir = new TempDir();
        Openssl.Shell("openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 | openssl pkcs8 -topk8 -v2 aes256 -passout pass:x -out k.pem", dir.Path);

        Assert.True(PemFiles.IsEncryptedKeyFile(dir.File("k.pem")));
        CertificateFileException error = Assert.Throws<CertificateFileException>(() => PemFiles.LoadPrivateKey(dir.File("k.pem"), default));
        Assert.Equal("k.pem: key is encrypted; a passphrase is needed", error.Message);
    }

    [Fact]
    public void ReplacingWithAnEmptyPassphraseWritesPlainPkcs8()
    {
        using var dir = new TempDir();
        using ECDsa key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        PemFiles.WritePrivateKey(dir.File("k.pem"), key, "x");

        using (AsymmetricAlgorithm loaded = PemFiles.LoadPrivateKey(dir.File("k.pem"), "x"))
        {
            PemFiles.ReplacePrivateKey(dir.File("k.pem"), loaded, default);
        }

        Assert.False(PemFiles.IsEncryptedKeyFile(dir.File("k.pem")));
        Assert.StartsWith("-----BEGIN PRIVATE KEY-----", File.ReadAllText(dir.File("k.pem")), StringComparison.Ordinal);
        Openssl.Shell("openssl pkey -in k.pem -noout", dir.Path);
    }

    [Fact]
    public void CreatePrivateKeyRefusesToReplaceAFile()
    {
        using var dir = new TempDir();
        File.WriteAllText(dir.File("k.pem"), "keep me");
        using ECDsa key = ECDsa.Create(ECCurve.NamedCurves.nistP256);

        Assert.Throws<CertificateFileException>(() => PemFiles.CreatePrivateKey(dir.File("k.pem"), key, default));
        Assert.Equal("keep me", File.ReadAllText(dir.File("k.pem")));
    }
}
