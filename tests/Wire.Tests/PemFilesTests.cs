using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Gatehouse.Wire;

namespace Gatehouse.Wire.Tests;

[Collection(PkiCollection.Name)]
public sealed class PemFilesTests(TestPki pki)
{
    [Theory]
    [InlineData("")]
    [InlineData("correct horse")]
    public void RoundTripsACertificateAndItsKey(string passphrase)
    {
        using var dir = new TempDir();
        Write(dir, pki.CaClient, passphrase);

        using X509Certificate2 loaded = PemFiles.LoadCertificateWithKey(dir.File("c.pem"), dir.File("k.pem"), passphrase);

        Assert.True(loaded.HasPrivateKey);
        Assert.Equal(pki.CaClient.Thumbprint, loaded.Thumbprint);
        using ECDsa key = loaded.GetECDsaPrivateKey()!;
        using ECDsa pub = pki.CaClient.GetECDsaPublicKey()!;
        byte[] data = "gatehouse"u8.ToArray();
        Assert.True(pub.VerifyData(data, key.SignData(data, HashAlgorithmName.SHA256), HashAlgorithmName.SHA256));
    }

    [Fact]
    public void WritesEncryptedKeysAsPbes2()
    {
        using var dir = new TempDir();
        Write(dir, pki.CaClient, "secret");

        string text = File.ReadAllText(dir.File("k.pem"));
        Assert.StartsWith("-----BEGIN ENCRYPTED PRIVATE KEY-----", text, StringComparison.Ordinal);
        Assert.Contains("PBES2", Openssl.Shell("openssl asn1parse -in k.pem", dir.Path), StringComparison.Ordinal);
    }

    [Fact]
    public void WritesPlainKeysAsPkcs8()
    {
        using var dir = new TempDir();
        Write(dir, pki.CaClient, "");

        Assert.StartsWith("-----BEGIN PRIVATE KEY-----", File.ReadAllText(dir.File("k.pem")), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("")]
    [InlineData("s3cret")]
    [System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
    public void KeyFileIsCreatedOwnerOnly(string passphrase)
    {
        using var dir = new TempDir();
        File.WriteAllText(dir.File("k.pem"), "old");
        File.SetUnixFileMode(dir.File("k.pem"), (UnixFileMode)0b110_100_100);

        Write(dir, pki.CaClient, passphrase);

        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(dir.File("k.pem")));
    }

    [Fact]
    public void WrongPassphraseNamesTheFile()
    {
        using var dir = new TempDir();
        Write(dir, pki.CaClient, "right");

        CertificateFileException error = Assert.Throws<CertificateFileException>(
            () => PemFiles.LoadCertificateWithKey(dir.File("c.pem"), dir.File("k.pem"), "wrong"));

        Assert.Equal("k.pem: wrong passphrase or corrupt key", error.Message);
    }

    [Fact]
    public void EncryptedKeyWithoutPassphraseSaysSo()
    {
        using var dir = new TempDir();
        Write(dir, pki.CaClient, "right");

        CertificateFileException error = Assert.Throws<CertificateFileException>(
            () => PemFiles.LoadCertificateWithKey(dir.File("c.pem"), dir.File("k.pem"), ""));

        Assert.Contains("passphrase", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void KeyOfAnotherCertificateIsRefused()
    {
        using var dir = new TempDir();
        Write(dir, pki.CaClient, "");
        PemFiles.WriteCertificate(dir.File("c.pem"), pki.Denied);

        CertificateFileException error = Assert.Throws<CertificateFileException>(
            () => PemFiles.LoadCertificateWithKey(dir.File("c.pem"), dir.File("k.pem"), ""));

        Assert.StartsWith("k.pem: key does not match", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void MissingOrEmptyFilesAreNamed()
    {
        using var dir = new TempDir();
        File.WriteAllText(dir.File("empty.pem"), "");

        Assert.StartsWith("nope.pem:", Assert.Throws<CertificateFileException>(() => PemFiles.LoadCertificate(dir.File("nope.pem"))).Message, StringComparison.Ordinal);
        Assert.StartsWith("empty.pem:", Assert.Throws<CertificateFileException>(() => PemFiles.LoadCertificate(dir.File("empty.pem"))).Message, StringComparison.Ordinal);

        PemFiles.WriteCertificate(dir.File("c.pem"), pki.CaClient);
        Assert.StartsWith("empty.pem:", Assert.Throws<CertificateFileException>(() => PemFiles.LoadCertificateWithKey(dir.File("c.pem"), dir.File("empty.pem"), "")).Message, StringComparison.Ordinal);
    }

    [Fact]
    public void OpensslReadsTheEncryptedKeyWeWrite()
    {
        using var dir = new TempDir();
        Write(dir, pki.CaClient, "pass phrase");
        File.WriteAllText(dir.File("pw"), "pass phrase\n");

        string pin = Openssl.Shell(
            "openssl pkey -in k.pem -passin file:pw -pubout -outform der | openssl dgst -sha256 -binary | base64", dir.Path).Trim();

        Assert.Equal(KeyPin.Compute(pki.CaClient), "sha256//" + pin);
    }

    [Fact]
    public void OpensslReadsThePlainKeyWeWrite()
    {
        using var dir = new TempDir();
        Write(dir, pki.CaClient, "");

        string pin = Openssl.Shell("openssl pkey -in k.pem -pubout -outform der | openssl dgst -sha256 -binary | base64", dir.Path).Trim();

        Assert.Equal(KeyPin.Compute(pki.CaClient), "sha256//" + pin);
    }

    [Theory]
    [InlineData("openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 | openssl pkcs8 -topk8 -v2 aes256 -passout pass:x -out k.pem", "x", "ENCRYPTED PRIVATE KEY")]
    [InlineData("openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out k.pem", "", "PRIVATE KEY")]
    [InlineData("openssl ecparam -name prime256v1 -genkey -noout -out k.pem", "", "EC PRIVATE KEY")]
    [InlineData("openssl genrsa -traditional -out k.pem 2048", "", "RSA PRIVATE KEY")]
    [InlineData("openssl genrsa -traditional 2048 | openssl pkcs8 -topk8 -v2 aes256 -passout pass:x -out k.pem", "x", "ENCRYPTED PRIVATE KEY")]
    public void ReadsKeysMadeByOpenssl(string makeKey, string passphrase, string label)
    {
        using var dir = new TempDir();
        Openssl.Shell(makeKey + " && openssl req -new -x509 -key k.pem -passin pass:x -subj /CN=made-by-openssl -days 2 -out c.pem", dir.Path);
        Assert.StartsWith($"-----BEGIN {label}-----", File.ReadAllText(dir.File("k.pem")), StringComparison.Ordinal);

        using X509Certificate2 loaded = PemFiles.LoadCertificateWithKey(dir.File("c.pem"), dir.File("k.pem"), passphrase);

        Assert.True(loaded.HasPrivateKey);
        Assert.Equal("CN=made-by-openssl", loaded.Subject);
        _ = new ServerIdentity(loaded);
    }

    private static void Write(TempDir dir, X509Certificate2 cert, string passphrase)
    {
        PemFiles.WriteCertificate(dir.File("c.pem"), cert);
        using AsymmetricAlgorithm key = cert.GetECDsaPrivateKey()!;
        PemFiles.WritePrivateKey(dir.File("k.pem"), key, passphrase);
    }
}
