using System.Security.Cryptography.X509Certificates;
using System.Text.Json;
using Gatehouse.Wire;

namespace Gatehouse.Tests;

/// <summary><c>gatehouse cert issue</c> and <c>gatehouse cert list</c> through the real executable (issue 7).</summary>
[System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
public sealed class CertCommandTests
{
    private const string CaPassphrase = TestSecrets.CaPassphrase;

    [Fact]
    public async Task IssuesACertificateTheCaVouchesForAndRecordsIt()
    {
        using var dir = new TempDirectory();
        await InitAsync(dir);

        var result = await GatehouseProcess.RunAsync(CaPassphrase + "\ntablet passphrase\n", "cert", "issue", "--ca", dir.Path, "--name", "tablet", "--out", dir.File("devices"));

        Assert.True(result.ExitCode == 0, result.Stderr);
        var pin = result.Stdout.Trim();
        Assert.True(KeyPin.IsWellFormed(pin), pin);
        using var certificate = PemFiles.LoadCertificateWithKey(dir.File("devices/tablet.crt"), dir.File("devices/tablet.key"), "tablet passphrase");
        Assert.Equal(pin, KeyPin.Compute(certificate));
        Assert.Equal("CN=tablet", certificate.Subject);
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(dir.File("devices/tablet.key")));
        Assert.StartsWith("-----BEGIN ENCRYPTED PRIVATE KEY-----", await File.ReadAllTextAsync(dir.File("devices/tablet.key")));
        KeyCommandTests.Shell("openssl verify -CAfile ca.crt devices/tablet.crt", dir.Path);

        using var ca = PemFiles.LoadCertificate(dir.File("ca.crt"));
        var decision = new ClientTrust([new TrustedCa("user", ca)], [], []).Evaluate(certificate);
        Assert.Equal(TrustSource.CertificateAuthority, decision.Principal?.Source);

        var line = Assert.Single(await File.ReadAllLinesAsync(dir.File("issued.jsonl")));
        using var record = JsonDocument.Parse(line);
        Assert.Equal("tablet", record.RootElement.GetProperty("name").GetString());
        Assert.Equal(pin, record.RootElement.GetProperty("pin").GetString());
        Assert.Equal(certificate.SerialNumber, record.RootElement.GetProperty("serial").GetString());
        Assert.Equal(certificate.NotAfter.ToUniversalTime(), record.RootElement.GetProperty("notAfter").GetDateTimeOffset().UtcDateTime);
        Assert.True(record.RootElement.TryGetProperty("notBefore", out _));
        Assert.True(record.RootElement.TryGetProperty("issued", out _));
    }

    [Fact]
    public async Task ListShowsNamePinAndExpiry()
    {
        using var dir = new TempDirectory();
        await InitAsync(dir);
        var first = await GatehouseProcess.RunAsync(CaPassphrase + "\n", "cert", "issue", "--ca", dir.Path, "--name", "phone", "--out", dir.Path, "--no-passphrase");
        var second = await GatehouseProcess.RunAsync(CaPassphrase + "\n", "cert", "issue", "--ca", dir.Path, "--name", "notes-app", "--out", dir.Path, "--no-passphrase");
        Assert.True(first.ExitCode == 0 && second.ExitCode == 0, first.Stderr + second.Stderr);
        Assert.StartsWith("-----BEGIN PRIVATE KEY-----", await File.ReadAllTextAsync(dir.File("phone.key")));

        var list = await GatehouseProcess.RunAsync(null, "cert", "list", "--ca", dir.Path);

        Assert.Equal(0, list.ExitCode);
        var lines = list.Stdout.TrimEnd().Split('\n');
        Assert.Equal(3, lines.Length);
        Assert.Matches(@"^NAME\s+PIN\s+EXPIRES$", lines[0]);
        using var phone = X509CertificateLoader.LoadCertificateFromFile(dir.File("phone.crt"));
        Assert.Matches($@"^phone\s+{System.Text.RegularExpressions.Regex.Escape(first.Stdout.Trim())}\s+{phone.NotAfter.ToUniversalTime():yyyy-MM-dd}$", lines[1]);
        Assert.StartsWith("notes-app ", lines[2]);
        Assert.Contains(second.Stdout.Trim(), lines[2]);
    }

    [Fact]
    public async Task RefusesToOverwriteAndRefusesAWrongCaPassphrase()
    {
        using var dir = new TempDirectory();
        await InitAsync(dir);
        Directory.CreateDirectory(dir.File("out"));
        await File.WriteAllTextAsync(dir.File("out/phone.key"), "keep me");

        var overwrite = await GatehouseProcess.RunAsync(CaPassphrase + "\n", "cert", "issue", "--ca", dir.Path, "--name", "phone", "--out", dir.File("out"), "--no-passphrase");
        Assert.Equal(2, overwrite.ExitCode);
        Assert.Contains("refusing to overwrite", overwrite.Stderr);
        Assert.Equal("keep me", await File.ReadAllTextAsync(dir.File("out/phone.key")));
        Assert.False(File.Exists(dir.File("out/phone.crt")));

        var wrong = await GatehouseProcess.RunAsync("not it\n", "cert", "issue", "--ca", dir.Path, "--name", "tablet", "--out", dir.File("out"), "--no-passphrase");
        Assert.Equal(2, wrong.ExitCode);
        Assert.Contains("ca.key: wrong passphrase", wrong.Stderr);
        Assert.False(File.Exists(dir.File("out/tablet.key")));

        var badName = await GatehouseProcess.RunAsync(CaPassphrase + "\n", "cert", "issue", "--ca", dir.Path, "--name", "../escape", "--out", dir.File("out"), "--no-passphrase");
        Assert.Equal(2, badName.ExitCode);
        Assert.False(File.Exists(dir.File("issued.jsonl")));
    }

    private static async Task InitAsync(TempDirectory dir)
    {
        var init = await GatehouseProcess.RunAsync(CaPassphrase + "\n", "init", dir.Path, "--name", "localhost");
        Assert.True(init.ExitCode == 0, init.Stderr);
    }
}
