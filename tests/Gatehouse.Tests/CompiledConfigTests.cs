using System.Text.Json;
using Gatehouse.Config;
using Gatehouse.Model;

namespace Gatehouse.Tests;

/// <summary>Loading checks a config and leaves it as written; the compiled model holds defaults and full paths (issue 20 item 4).</summary>
public sealed class CompiledConfigTests
{
    private const string Json = """
        {
          "tls": { "certificate": "server.crt", "key": "keys/server.key" },
          "trust": { "cas": [ { "name": "user", "certificate": "ca.crt" } ] },
          "routes": [
            { "kind": "files", "match": { "pathPrefix": "/files/" }, "stores": [ "store" ] },
            { "kind": "proxy", "match": { "host": "blog.example" }, "backend": "http://127.0.0.1:4334", "access": { "usersFile": "users" } }
          ],
          "peers": [ { "name": "laptop", "pins": [ "sha256//AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=" ], "addresses": [ "192.0.2.7:8443" ] } ]
        }
        """;

    [Fact]
    public void LoadingLeavesTheConfigAsWritten()
    {
        using var dir = new TempDirectory();
        File.WriteAllText(dir.File("users"), string.Empty);
        var config = ConfigLoader.Parse(Json, dir.File("gatehouse.json"));
        var before = JsonSerializer.Serialize(JsonSerializer.Deserialize(Json, ConfigJsonContext.Default.GatehouseConfig)!, ConfigJsonContext.Default.GatehouseConfig);

        _ = CompiledConfig.Compile(config);

        Assert.Equal(before, JsonSerializer.Serialize(config, ConfigJsonContext.Default.GatehouseConfig));
        Assert.Empty(config.Listen);
        Assert.Equal("server.crt", config.Tls!.Certificate);
        Assert.Equal(string.Empty, config.Routes[0].Prefix);
        Assert.Null(config.Peers[0].Certificate);
    }

    [Fact]
    public void CompilingFillsDefaultsAndResolvesPathsAgainstTheConfigFolder()
    {
        using var dir = new TempDirectory();
        File.WriteAllText(dir.File("users"), string.Empty);
        var model = CompiledConfig.Compile(ConfigLoader.Parse(Json, dir.File("gatehouse.json")));

        var listener = Assert.Single(model.Listeners);
        Assert.Equal(new Listener("::", 0, Tls: true, Local: false, "required", Unrestricted: false), listener);
        Assert.Equal(new KeyFiles(dir.File("server.crt"), Path.Join(dir.Path, "keys", "server.key")), model.Tls);
        Assert.Equal(dir.File("ca.crt"), Assert.Single(model.Cas).Certificate);
        Assert.Equal(["/files/", "/"], model.Routes.Select(route => route.Prefix));
        Assert.Equal([dir.File("store")], model.Routes[0].Stores);
        Assert.Equal(dir.File("users"), model.Routes[1].UsersFile);
        Assert.Equal(model.Tls, Assert.Single(model.Peers).Identity); // a peer link presents the server's key when it names none
    }

    [Fact]
    public void TheValidatorReturnsEveryErrorInFileOrderAndTheLoaderReportsTheFirst()
    {
        using var dir = new TempDirectory();
        const string json = """
            {
              "listen": [ { "address": "not an address", "port": 70000 } ],
              "routes": [ { "kind": "files", "prefix": "/files/" } ]
            }
            """;
        var config = JsonSerializer.Deserialize(json, ConfigJsonContext.Default.GatehouseConfig)!;

        var errors = ConfigValidator.Validate(config);

        Assert.Equal(["$.listen[0].address", "$.listen[0].port", "$.tls", "$.routes[0].stores"], errors.Select(error => error.Field));
        var thrown = Assert.Throws<ConfigException>(() => ConfigLoader.Parse(json, dir.File("gatehouse.json")));
        Assert.Equal($"{dir.File("gatehouse.json")}: {errors[0].Field}: {errors[0].Message}", thrown.Message);
    }
}
