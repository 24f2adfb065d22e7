using System.Net;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Gatehouse.Config;
using Gatehouse.Wire;

namespace Gatehouse.Tests;

/// <summary>
/// CouchDB proxy authentication (issue 3): with a secret in the stdin environment, the role is
/// presented as X-Auth-CouchDB-UserName/Roles/Token (HMAC-SHA256) instead of Basic, and a client
/// can never send its own copies.
/// </summary>
public sealed class CouchProxyAuthTests
{
    private const string Secret = TestSecrets.ProxyAuthSecret;

    [Fact]
    public async Task TheRoleIsPresentedWithAnHmacTokenAndClientCopiesAreStripped()
    {
        await using var backend = new Smuggling.RecordingBackend();
        await using var gateway = await StartAsync(backend.Port, "[\"replicator\"]");
        using var device = CertificateFactory.IssueClient(gateway.Ca, "alice-laptop");
        using var http = gateway.CreateClient(device);
        using var request = new HttpRequestMessage(HttpMethod.Get, "/couch/dmedia-0/doc");
        request.Headers.Add("X-Auth-CouchDB-UserName", "admin");
        request.Headers.Add("X-Auth-CouchDB-Roles", "_admin");
        request.Headers.Add("X-Auth-CouchDB-Token", "forged");
        using var response = await http.SendAsync(request);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);

        var seen = Assert.Single(backend.Requests);
        Assert.Equal(0, seen.CountOf("Authorization"));
        Assert.Equal(1, seen.CountOf("X-Auth-CouchDB-UserName"));
        var fields = seen.Fields.ToDictionary(f => f.Name, f => f.Value, StringComparer.OrdinalIgnoreCase);
        Assert.Equal("device", fields["X-Auth-CouchDB-UserName"]);
        Assert.Equal("replicator", fields["X-Auth-CouchDB-Roles"]);
        var expected = Convert.ToHexStringLower(HMACSHA256.HashData(Encoding.UTF8.GetBytes(Secret), "device"u8));
        Assert.Equal(expected, fields["X-Auth-CouchDB-Token"]);
    }

    [Fact]
    public async Task AnAdminRoleIsRefusedAtStartup()
    {
        var error = await Assert.ThrowsAsync<ConfigException>(() => StartAsync(1, "[\"_admin\"]"));
        Assert.Contains("_admin", error.Message);
    }

    private static Task<InProcessGateway> StartAsync(int port, string roles)
    {
        var environment = JsonSerializer.Deserialize(
            $$"""{ "couchdb": { "url": "http://127.0.0.1:{{port}}/", "proxyAuthSecret": "{{Secret}}", "credentials": { "device": { "username": "device", "roles": {{roles}} } } } }""",
            ConfigJsonContext.Default.StdinEnvironment);
        return InProcessGateway.StartAsync(
            config =>
            {
                config.Routes.Add(new RouteConfig { Kind = "couchdb", Prefix = "/couch/" });
                config.Rules[0].Couchdb = new CouchRuleConfig { Databases = ["*"], Allow = ["read", "pull"] };
                return config;
            },
            environment: environment);
    }
}
