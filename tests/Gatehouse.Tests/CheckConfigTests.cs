namespace Gatehouse.Tests;

/// <summary>`gatehouse check-config`: validates without listening, names what is wrong.</summary>
public sealed class CheckConfigTests
{
    [Fact]
    public async Task AGoodConfigPrintsWhatItWouldServe()
    {
        using var dir = new TempDirectory();
        await ProcessTests.InitPlainAsync(dir);
        var result = await GatehouseProcess.RunAsync(null, "check-config", dir.File("gatehouse.json"));
        Assert.True(result.ExitCode == 0, result.Stderr);
        Assert.Contains("server pin: sha256//", result.Stdout);
        Assert.Contains("route: /files/ (files", result.Stdout);
        Assert.Contains("rule: ca:user as device: files read/write", result.Stdout);
    }

    [Fact]
    public async Task AMissingCaFileIsNamed()
    {
        using var dir = new TempDirectory();
        await ProcessTests.InitPlainAsync(dir);
        File.Delete(dir.File("ca.crt"));
        var result = await GatehouseProcess.RunAsync(null, "check-config", dir.File("gatehouse.json"));
        Assert.Equal(2, result.ExitCode);
        Assert.Contains("ca.crt", result.Stderr);
    }

    [Fact]
    public async Task AnEncryptedKeyIsOpenedWithTheStdinPassphrase()
    {
        using var dir = new TempDirectory();
        var init = await GatehouseProcess.RunAsync("s3cret-words\n", "init", dir.Path);
        Assert.Equal(0, init.ExitCode);
        var good = await GatehouseProcess.RunAsync("{\"keyPassphrase\":\"" + TestSecrets.CheckConfigPassphrase + "\"}", "check-config", dir.File("gatehouse.json"), "--env-stdin");
        Assert.True(good.ExitCode == 0, good.Stderr);
        var bad = await GatehouseProcess.RunAsync("{\"keyPassphrase\":\"nope\"}", "check-config", dir.File("gatehouse.json"), "--env-stdin");
        Assert.Equal(2, bad.ExitCode);
        Assert.Contains("server.key", bad.Stderr);
    }
}
