using System.Diagnostics;

namespace Gatehouse.Tests;

/// <summary><c>gatehouse key rekey</c> through the real executable (issue 7).</summary>
[System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
public sealed class KeyCommandTests
{
    [Fact]
    public async Task RekeyChangesThePassphraseAndOpensslReadsTheResult()
    {
        using var dir = new TempDirectory();
        Shell("openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 | openssl pkcs8 -topk8 -v2 aes256 -passout pass:old -out k.pem", dir.Path);
        var publicKey = Shell("openssl pkey -in k.pem -passin pass:old -pubout", dir.Path);

        var result = await GatehouseProcess.RunAsync("old\nnew one\n", "key", "rekey", dir.File("k.pem"));

        Assert.True(result.ExitCode == 0, result.Stderr);
        Assert.StartsWith("-----BEGIN ENCRYPTED PRIVATE KEY-----", await File.ReadAllTextAsync(dir.File("k.pem")));
        Assert.Equal(publicKey, Shell("openssl pkey -in k.pem -passin 'pass:new one' -pubout", dir.Path));
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(dir.File("k.pem")));
        Assert.Equal(["k.pem"], Directory.GetFiles(dir.Path).Select(Path.GetFileName));
        Assert.DoesNotContain("new one", result.Stdout + result.Stderr);
    }

    [Fact]
    public async Task AWrongOldPassphraseExitsTwoAndLeavesTheFile()
    {
        using var dir = new TempDirectory();
        Shell("openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 | openssl pkcs8 -topk8 -v2 aes256 -passout pass:right -out k.pem", dir.Path);
        var before = await File.ReadAllBytesAsync(dir.File("k.pem"));

        var result = await GatehouseProcess.RunAsync("wrong\nnew\n", "key", "rekey", dir.File("k.pem"));

        Assert.Equal(2, result.ExitCode);
        Assert.Contains("k.pem: wrong passphrase", result.Stderr);
        Assert.Equal(before, await File.ReadAllBytesAsync(dir.File("k.pem")));
    }

    [Fact]
    public async Task WritingThePlainKeyNeedsToPlaintext()
    {
        using var dir = new TempDirectory();
        Shell("openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 | openssl pkcs8 -topk8 -v2 aes256 -passout pass:p -out k.pem", dir.Path);

        var missingLine = await GatehouseProcess.RunAsync("p\n", "key", "rekey", dir.File("k.pem"));
        Assert.Equal(2, missingLine.ExitCode);
        Assert.Contains("--to-plaintext", missingLine.Stderr);

        var noPassphraseAlone = await GatehouseProcess.RunAsync("p\n", "key", "rekey", dir.File("k.pem"), "--no-passphrase");
        Assert.Equal(2, noPassphraseAlone.ExitCode);
        Assert.Contains("--to-plaintext", noPassphraseAlone.Stderr);
        Assert.StartsWith("-----BEGIN ENCRYPTED PRIVATE KEY-----", await File.ReadAllTextAsync(dir.File("k.pem")));

        var plain = await GatehouseProcess.RunAsync("p\n", "key", "rekey", dir.File("k.pem"), "--to-plaintext");
        Assert.True(plain.ExitCode == 0, plain.Stderr);
        Assert.StartsWith("-----BEGIN PRIVATE KEY-----", await File.ReadAllTextAsync(dir.File("k.pem")));
        Shell("openssl pkey -in k.pem -noout", dir.Path);

        // And back: a plain key takes an empty first line.
        var encrypted = await GatehouseProcess.RunAsync("\nagain\n", "key", "rekey", dir.File("k.pem"));
        Assert.True(encrypted.ExitCode == 0, encrypted.Stderr);
        Shell("openssl pkey -in k.pem -passin pass:again -noout", dir.Path);
    }

    [Fact]
    public async Task TheRekeyedServerKeyServesWithTheNewPassphrase()
    {
        using var dir = new TempDirectory();
        var init = await GatehouseProcess.RunAsync("first\n", "init", dir.Path, "--name", "localhost");
        Assert.True(init.ExitCode == 0, init.Stderr);
        var rekey = await GatehouseProcess.RunAsync("first\nsecond\n", "key", "rekey", dir.File("server.key"));
        Assert.True(rekey.ExitCode == 0, rekey.Stderr);

        var old = await GatehouseProcess.RunAsync("""{ "keyPassphrase": "first" }""", "serve", "--config", dir.File("gatehouse.json"), "--env-stdin");
        Assert.Equal(2, old.ExitCode);
        Assert.Contains("server.key: wrong passphrase", old.Stderr);

        using var gatehouse = GatehouseProcess.Start("""{ "keyPassphrase": "second" }""", "serve", "--config", dir.File("gatehouse.json"), "--env-stdin");
        var ready = await gatehouse.WaitReadyAsync();
        Assert.True(ready.GetProperty("ready").GetBoolean());
    }

    internal static string Shell(string script, string directory)
    {
        var start = new ProcessStartInfo("/bin/sh")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = directory,
        };
        start.ArgumentList.Add("-c");
        start.ArgumentList.Add("set -e; " + script);
        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        Assert.True(process.WaitForExit(20_000), "timed out: " + script);
        Assert.True(process.ExitCode == 0, $"'{script}' exited {process.ExitCode}: {stderr.Result}");
        return stdout.Result;
    }
}
