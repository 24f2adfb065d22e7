namespace Gatehouse.Tests;

/// <summary>
/// Issue 17 item 3: a proxy route mounted on a backend sub-path, in front of Python's http.server,
/// which decodes %2F before it normalises: <c>/sub/..%2Foutside.txt</c> is <c>/outside.txt</c> to it.
/// The gateway refuses an encoded / or \ in a segment unless the route opts in.
/// </summary>
public sealed class FrontEncodedSlashTests : IDisposable
{
    private const string Outside = "outside the mount\n";
    private readonly TempDirectory _site = new();

    public FrontEncodedSlashTests()
    {
        Directory.CreateDirectory(_site.File("sub"));
        File.WriteAllText(_site.File("sub/inside.txt"), "inside\n");
        File.WriteAllText(_site.File("outside.txt"), Outside);
    }

    [Fact]
    public async Task EncodedSlashIsRefusedAndNeverReachesTheBackend()
    {
        using var python = await PythonHttpServer.StartAsync(_site.Path);
        await using var gateway = await StartAsync(python, optIn: null);
        var client = ClientPem.Issue(gateway, "alice-laptop");

        Assert.Equal("inside\n", (await GetAsync(gateway, client, "/pub/inside.txt")).Body);
        var (head, body) = await GetAsync(gateway, client, "/pub/..%2Foutside.txt");
        Assert.StartsWith("HTTP/1.1 400", head);
        Assert.Contains("Content-Type: application/json", head);
        Assert.Contains("Connection: close", head, StringComparison.OrdinalIgnoreCase);
        Assert.Contains("\"error\"", body);
        Assert.DoesNotContain(Outside.Trim(), body);
    }

    [Fact]
    public async Task EncodedBackslashIsRefused()
    {
        using var python = await PythonHttpServer.StartAsync(_site.Path);
        await using var gateway = await StartAsync(python, optIn: null);
        var client = ClientPem.Issue(gateway, "alice-laptop");

        Assert.StartsWith("HTTP/1.1 400", (await GetAsync(gateway, client, "/pub/..%5Coutside.txt")).Head);
        Assert.StartsWith("HTTP/1.1 400", (await GetAsync(gateway, client, "/pub/a%5cb")).Head);
    }

    [Fact]
    public async Task WithTheOptInItIsForwardedAndPythonStepsOutOfTheMount()
    {
        using var python = await PythonHttpServer.StartAsync(_site.Path);
        await using var gateway = await StartAsync(python, optIn: true);
        var client = ClientPem.Issue(gateway, "alice-laptop");

        // The documented risk of allowEncodedSlashes: the backend decodes, then normalises, and
        // serves a file beside its mount. Only for backends known to keep %2F inside a segment.
        var (head, body) = await GetAsync(gateway, client, "/pub/..%2Foutside.txt");
        Assert.StartsWith("HTTP/1.1 200", head);
        Assert.Equal(Outside, body);
    }

    public void Dispose() => _site.Dispose();

    private static Task<InProcessGateway> StartAsync(PythonHttpServer python, bool? optIn) => InProcessGateway.StartAsync(configJson: FrontConfig.Json(
        $$"""[ { "kind": "proxy", "name": "pub", "prefix": "/pub/", "backend": "http://127.0.0.1:{{python.Port}}/sub/"{{(optIn is { } allow ? $", \"allowEncodedSlashes\": {(allow ? "true" : "false")}" : "")}} } ]""",
        """[ { "principals": [ "ca:user" ], "proxy": [ "pub" ] } ]"""));

    /// <summary>Over TLS with a client certificate; <c>--path-as-is</c> so curl sends the target byte for byte.</summary>
    private static async Task<(string Head, string Body)> GetAsync(InProcessGateway gateway, ClientPem client, string path)
    {
        using var headFile = new TempDirectory();
        var (code, body, stderr) = await Curl.RunAsync([.. FrontConfig.CaArgs(gateway), .. client.CurlArgs, "--path-as-is", "-D", headFile.File("head"), FrontConfig.Https(gateway, path)]);
        Assert.True(code == 0, stderr);
        return (await File.ReadAllTextAsync(headFile.File("head")), body);
    }
}
