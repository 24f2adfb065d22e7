using System.Text.Json;
using Gatehouse.Config;

namespace Gatehouse.Tests;

/// <summary>`gatehouse config defaults` prints what serve really uses, in a form the config takes back.</summary>
public sealed class ConfigDefaultsTests
{
    [Fact]
    public async Task DefaultsMatchTheLimitsTypeAndLoadBack()
    {
        var result = await GatehouseProcess.RunAsync(null, "config", "defaults");
        Assert.True(result.ExitCode == 0, result.Stderr);
        using var printed = JsonDocument.Parse(result.Stdout);
        var limits = printed.RootElement.GetProperty("limits");

        foreach (var (property, defaultValue) in LimitDefaults.All)
        {
            var value = limits.GetProperty(JsonNamingPolicy.CamelCase.ConvertName(property.Name));
            var expected = defaultValue switch
            {
                TimeSpan span => span.TotalSeconds,
                int number => number,
                long number => (double)number,
                _ => throw new InvalidOperationException(property.Name),
            };
            Assert.Equal(expected, value.GetDouble());
        }

        var listen = printed.RootElement.GetProperty("listen")[0];
        Assert.Equal("::", listen.GetProperty("address").GetString());
        Assert.Equal("required", listen.GetProperty("clientCertificate").GetString());
        Assert.True(listen.GetProperty("tls").GetBoolean());
        // File watching is on unless the config turns it off (issue 7).
        Assert.True(printed.RootElement.GetProperty("reload").GetProperty("watch").GetBoolean());
        // The TLS tuning is on unless the config turns it off (issue 20).
        Assert.True(printed.RootElement.GetProperty("runtime").GetProperty("tlsTuning").GetBoolean());

        // The printed limits are a valid "limits" section as they stand.
        using var dir = new TempDirectory();
        var config = ConfigLoader.Parse(
            $$"""{ "listen": [ { "address": "127.0.0.1", "tls": false } ], "limits": {{limits.GetRawText()}} }""",
            dir.File("gatehouse.json"));
        Assert.Equal(limits.EnumerateObject().Count(), config.Limits.Count);
    }

    [Fact]
    public async Task BareConfigIsAUsageError()
    {
        var result = await GatehouseProcess.RunAsync(null, "config");
        Assert.Equal(2, result.ExitCode);
        Assert.Contains("defaults", result.Stderr);
    }
}
