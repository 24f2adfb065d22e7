using Gatehouse.Config;

namespace Gatehouse.Tests;

/// <summary>The configs under examples/ stay loadable as the config model changes.</summary>
public sealed class ExampleConfigTests
{
    public static TheoryData<string> Examples() => new(ExampleNames());

    private static List<string> ExampleNames() =>
        [.. Directory.GetFiles(Path.Combine(PouchDbServer.RepositoryRoot, "examples"), "*.json").Select(f => Path.GetFileName(f)).Order(StringComparer.Ordinal)];

    [Theory]
    [MemberData(nameof(Examples))]
    public async Task ExampleLoads(string name)
    {
        using var dir = new TempDirectory();
        var text = await File.ReadAllTextAsync(Path.Combine(PouchDbServer.RepositoryRoot, "examples", name));
        // The loader checks that a users file exists (certificates are only opened by serve and check-config).
        await File.WriteAllTextAsync(dir.File("users.passwd"), string.Empty);
        await File.WriteAllTextAsync(dir.File(name), text);

        var config = ConfigLoader.Load(dir.File(name));

        Assert.Equal("../gatehouse.schema.json", config.Schema);
        Assert.NotEmpty(config.Routes);
        Assert.NotEmpty(config.Rules);
    }

    [Fact]
    public void EveryJobHasAnExample()
    {
        var names = ExampleNames();
        Assert.Contains("device-gateway.json", names);
        Assert.Contains("local-app-front.json", names);
        Assert.Contains("peer-links.json", names);
    }
}
