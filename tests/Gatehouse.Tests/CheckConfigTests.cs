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
        Assert.Contains(dir.File("gatehouse.json") + ": $.trust.cas[0].certificate: ", result.Stderr);
        Assert.Contains("fix the path", result.Stderr);
    }

    [Fact]
    public async Task AnUnknownFieldIsNamedWithTheNearestFieldAndAnEditorsLine()
    {
        using var dir = new TempDirectory();
        await ProcessTests.InitPlainAsync(dir);
        var config = dir.File("gatehouse.json");
        await File.WriteAllTextAsync(config, (await File.ReadAllTextAsync(config)).Replace("\"listen\"", "\"listne\"", StringComparison.Ordinal));
        var line = Array.FindIndex(await File.ReadAllLinesAsync(config), l => l.Contains("\"listne\"", StringComparison.Ordinal)) + 1;
        var result = await GatehouseProcess.RunAsync(null, "check-config", config);
        Assert.Equal(2, result.ExitCode);
        Assert.Contains($"{config}: $.listne: unknown field \"listne\" (line {line}, ", result.Stderr);
        Assert.Contains("did you mean \"listen\"?", result.Stderr);
        Assert.Contains("fields here: $schema, listen, tls,", result.Stderr);
        Assert.DoesNotContain("Gatehouse.Config", result.Stderr);
        Assert.DoesNotContain("sourcePath", result.Stderr);
    }

    [Theory]
    [InlineData("\"port\": 0", "\"port\": \"x\"", "$.listen[0].port: must be a whole number")]
    [InlineData("\"tls\": true", "\"tls\": 1", "$.listen[0].tls: must be true or false")]
    public async Task AWrongTypeSaysWhatTheFieldTakes(string good, string bad, string expected)
    {
        using var dir = new TempDirectory();
        await ProcessTests.InitPlainAsync(dir);
        var config = dir.File("gatehouse.json");
        var text = await File.ReadAllTextAsync(config);
        Assert.Contains(good, text, StringComparison.Ordinal);
        await File.WriteAllTextAsync(config, text.Replace(good, bad, StringComparison.Ordinal));
        var result = await GatehouseProcess.RunAsync(null, "check-config", config);
        Assert.Equal(2, result.ExitCode);
        Assert.Contains(expected, result.Stderr);
        Assert.DoesNotContain("System.", result.Stderr);
    }

    [Fact]
    public async Task AMissingServerCertificateStopsServeNamingTheFileAndField()
    {
        using var dir = new TempDirectory();
        await ProcessTests.InitPlainAsync(dir);
        File.Delete(dir.File("server.crt"));
        var result = await GatehouseProcess.RunAsync(null, "serve", "--config", dir.File("gatehouse.json"));
        Assert.NotEqual(0, result.ExitCode);
        Assert.Contains(dir.File("gatehouse.json") + ": $.tls: ", result.Stderr);
        Assert.Contains("server.crt", result.Stderr);
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
