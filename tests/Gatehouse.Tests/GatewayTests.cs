using System.Net;
using System.Text.Json;
using Gatehouse.Config;
using Gatehouse.Http1;
using Gatehouse.Hosting;
using Gatehouse.Policy;
using Gatehouse.Wire;

namespace Gatehouse.Tests;

/// <summary>The composed gateway in-process: identity reaches routes, policy refuses what rules do not grant.</summary>
public sealed class GatewayTests
{
    [Fact]
    public async Task WhoAmIReportsTheCaSignedPrincipal()
    {
        await using var gateway = await InProcessGateway.StartAsync();
        using var client = CertificateFactory.IssueClient(gateway.Ca, "alice-laptop");
        using var http = gateway.CreateClient(client);
        var json = await http.GetStringAsync("/_gatehouse/whoami");
        using var body = JsonDocument.Parse(json);
        Assert.Equal(KeyPin.Compute(client), body.RootElement.GetProperty("pin").GetString());
        Assert.Equal("ca", body.RootElement.GetProperty("trust").GetString());
        Assert.Contains("alice-laptop", body.RootElement.GetProperty("subject").GetString());
    }

    [Fact]
    public async Task WhoAmIReportsAPinnedSelfSignedPrincipal()
    {
        using var selfSigned = CertificateFactory.CreateSelfSignedClient("bob-phone");
        var pin = KeyPin.Compute(selfSigned);
        await using var gateway = await InProcessGateway.StartAsync(config =>
        {
            config.Trust.Pins.Add(new PinConfig { Name = "bob-phone", Pin = pin });
            return config;
        });
        using var http = gateway.CreateClient(selfSigned);
        using var body = JsonDocument.Parse(await http.GetStringAsync("/_gatehouse/whoami"));
        Assert.Equal("pin", body.RootElement.GetProperty("trust").GetString());
        Assert.Equal("bob-phone", body.RootElement.GetProperty("trustName").GetString());
    }

    [Theory]
    [InlineData("127.0.0.1")]
    [InlineData("[::1]")]
    public async Task DualStackListenerServesIPv4AndIPv6(string host)
    {
        await using var gateway = await InProcessGateway.StartAsync();
        using var client = CertificateFactory.IssueClient(gateway.Ca, "alice-laptop");
        using var http = gateway.CreateClient(client, host);
        using var body = JsonDocument.Parse(await http.GetStringAsync("/_gatehouse/whoami"));
        Assert.Equal(host.Trim('[', ']'), body.RootElement.GetProperty("remoteAddress").GetString());
    }

    [Fact]
    public async Task WhoAmIOfTheSharedLocalUserNamesEachConnectionsOwnAddress()
    {
        // The local user is one principal object for every connection, and whoami keeps its body
        // per principal (issue 9): the kept body must never answer a connection from another address.
        await using var gateway = await InProcessGateway.StartAsync(configJson: """
            {
              "listen": [
                { "address": "127.0.0.1", "port": 0, "tls": false, "local": true },
                { "address": "::1", "port": 0, "tls": false, "local": true }
              ],
              "tls": { "certificate": "server.crt", "key": "server.key" },
              "trust": { "cas": [ { "name": "user", "certificate": "ca.crt" } ] },
              "routes": [],
              "rules": []
            }
            """);
        using var http = new HttpClient();
        async Task<string?> RemoteAddressAt(string origin)
        {
            using var body = JsonDocument.Parse(await http.GetStringAsync(origin + "/_gatehouse/whoami"));
            Assert.Equal("local", body.RootElement.GetProperty("trust").GetString());
            return body.RootElement.GetProperty("remoteAddress").GetString();
        }

        Assert.Equal("127.0.0.1", await RemoteAddressAt($"http://127.0.0.1:{gateway.PortOf(0)}"));
        Assert.Equal("::1", await RemoteAddressAt($"http://[::1]:{gateway.PortOf(1)}"));
        Assert.Equal("127.0.0.1", await RemoteAddressAt($"http://127.0.0.1:{gateway.PortOf(0)}"));
    }

    [Fact]
    public async Task UnknownRouteIsJson404()
    {
        await using var gateway = await InProcessGateway.StartAsync();
        using var client = CertificateFactory.IssueClient(gateway.Ca, "alice-laptop");
        using var http = gateway.CreateClient(client);
        using var response = await http.GetAsync("/nothing/here");
        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        Assert.Equal("application/json", response.Content.Headers.ContentType?.MediaType);
        using var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        Assert.Equal("not_found", body.RootElement.GetProperty("error").GetString());
    }

    [Fact]
    public async Task WriteWithoutAGrantIsRefusedWith403()
    {
        await using var gateway = await InProcessGateway.StartAsync();
        using var client = CertificateFactory.IssueClient(gateway.Ca, "alice-laptop");
        using var http = gateway.CreateClient(client);
        using var content = new ByteArrayContent([1, 2, 3]);
        using var response = await http.PutAsync("/files/" + new string('a', 64), content);
        Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
        using var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        Assert.Equal("forbidden", body.RootElement.GetProperty("error").GetString());
    }

    [Fact]
    public async Task AnEmbeddingAppCanReplaceThePolicy()
    {
        using var dir = new TempDirectory();
        await using var reference = await InProcessGateway.StartAsync();
        var config = ConfigLoader.Load(reference.Dir.File("gatehouse.json"));
        await using var server = GatehouseServer.Create(config, null, TestLogFile.Options(new GatehouseServerOptions { Policy = new RefuseEverything() }));
        server.Start();
        using var client = CertificateFactory.IssueClient(reference.Ca, "alice-laptop");
        using var http = reference.CreateClient(client);
        http.BaseAddress = new Uri($"https://localhost:{server.BoundEndpoints[0].Port}/");
        using var response = await http.GetAsync("/_gatehouse/whoami");
        Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
        Assert.Contains("closed today", await response.Content.ReadAsStringAsync());
    }

    private sealed class RefuseEverything : IAccessPolicy
    {
        public AccessDecision Authorize(Principal principal, Request request) => AccessDecision.Deny("closed today");
    }
}
