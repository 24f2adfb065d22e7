using System.Net;
using System.Text.Json;
using Gatehouse.Config;
using Gatehouse.Hosting;
using Gatehouse.Wire;

namespace Gatehouse.Tests;

/// <summary>
/// pouchdb-server behind an in-process gateway, set up as in the dmedia case: the user's devices
/// (user CA) get everything but admin on every database with the `device` credential; an outside
/// peer (pinned self-signed key) may only pull project databases with the `peer` credential.
/// Neither credential is a CouchDB admin.
/// </summary>
public sealed class CouchGateway : IAsyncLifetime
{
    public const string DevicePassword = TestSecrets.CouchDevicePassword;
    public const string PeerPassword = TestSecrets.CouchPeerPassword;

    private InProcessGateway? _gateway;

    public PouchDbServer Couch { get; private set; } = null!;

    public InProcessGateway Gateway => _gateway!;

    public System.Security.Cryptography.X509Certificates.X509Certificate2 Device { get; private set; } = null!;

    public System.Security.Cryptography.X509Certificates.X509Certificate2 Peer { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        Couch = await PouchDbServer.StartAsync();
        await Couch.CreateUserAsync("device", DevicePassword);
        await Couch.CreateUserAsync("peer", PeerPassword);
        await Couch.CreateDatabaseAsync("dmedia-0", "device");
        await Couch.CreateDatabaseAsync("novacut-0-alpha", "device", "peer");
        await Couch.CreateDatabaseAsync("novacut-0-beta", "device");

        Peer = CertificateFactory.CreateSelfSignedClient("peer-laptop");
        var peerPin = KeyPin.Compute(Peer);
        var environment = JsonSerializer.Deserialize(
            $$"""
            { "couchdb": { "url": "{{Couch.Url}}",
                           "credentials": { "device": { "username": "device", "password": "{{DevicePassword}}" },
                                            "peer": { "username": "peer", "password": "{{PeerPassword}}" } } } }
            """,
            ConfigJsonContext.Default.StdinEnvironment);
        _gateway = await InProcessGateway.StartAsync(
            config =>
            {
                config.Trust.Pins.Add(new PinConfig { Name = "peer", Pin = peerPin });
                config.Routes.Add(new RouteConfig { Kind = "couchdb", Prefix = "/couch/" });
                config.Rules =
                [
                    new RuleConfig
                    {
                        Principals = ["ca:user"],
                        Role = "device",
                        Couchdb = new CouchRuleConfig { Databases = ["*"], Allow = ["pull", "push", "read", "write", "create"] },
                    },
                    new RuleConfig
                    {
                        Principals = ["pinned:peer"],
                        Role = "peer",
                        Couchdb = new CouchRuleConfig { Databases = ["novacut-0-*"], Allow = ["pull"] },
                    },
                ];
                return config;
            },
            environment: environment);
        Device = CertificateFactory.IssueClient(Gateway.Ca, "alice-laptop");
    }

    public HttpClient DeviceClient() => Gateway.CreateClient(Device);

    public HttpClient PeerClient() => Gateway.CreateClient(Peer);

    public async Task DisposeAsync()
    {
        if (_gateway is not null)
        {
            await _gateway.DisposeAsync();
        }

        await Couch.DisposeAsync();
        Device?.Dispose();
        Peer?.Dispose();
    }
}
