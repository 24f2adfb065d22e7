using System.Diagnostics.Metrics;
using System.Text.Json;

namespace Gatehouse.Tests;

/// <summary>
/// Issue 17 item 5: a WSGI app (Python's wsgiref) reads <c>X_Gatehouse_User</c> exactly like
/// <c>X-Gatehouse-User</c>, so underscore names are dropped before forwarding. With a route's
/// opt-in they pass, except any that reads as a header the gateway sets or strips.
/// </summary>
public sealed class FrontUnderscoreHeaderTests
{
    private static readonly string[] Forged =
    [
        "-H", "X_Gatehouse_User: admin", "-H", "X_Gatehouse_Principal: sha256//forged", "-H", "X_Forwarded_For: 6.6.6.6",
        "-H", "X_Forwarded_Host: evil.example", "-H", "X_Auth_CouchDB_Roles: _admin", "-H", "X_App_Hint: 1",
    ];

    [Fact]
    public async Task UnderscoreHeadersNeverReachAWsgiApp()
    {
        using var wsgi = await PythonHttpServer.StartWsgiEnvironAsync();
        await using var gateway = await StartAsync(wsgi, optIn: null);
        var client = ClientPem.Issue(gateway, "alice-laptop");
        using var dropped = new DroppedCounter();

        var environ = await GetEnvironAsync(gateway, [.. client.CurlArgs, .. Forged]);
        Assert.Equal(client.Pin, environ.GetValueOrDefault("HTTP_X_GATEHOUSE_PRINCIPAL"));
        Assert.False(environ.ContainsKey("HTTP_X_GATEHOUSE_USER"), "a certificate caller has no user, and the forged one is gone");
        Assert.DoesNotContain("6.6.6.6", environ.GetValueOrDefault("HTTP_X_FORWARDED_FOR"));
        Assert.Equal($"localhost:{gateway.PortOf(0)}", environ.GetValueOrDefault("HTTP_X_FORWARDED_HOST"));
        Assert.False(environ.ContainsKey("HTTP_X_APP_HINT"));
        Assert.False(environ.ContainsKey("HTTP_X_AUTH_COUCHDB_ROLES"));
        Assert.True(dropped.Total >= 6, $"dropped {dropped.Total}");
    }

    [Fact]
    public async Task WithTheOptInOtherUnderscoreHeadersPassButNoSpellingOfAGatewayHeader()
    {
        using var wsgi = await PythonHttpServer.StartWsgiEnvironAsync();
        await using var gateway = await StartAsync(wsgi, optIn: true);

        // A Basic login: the gateway itself sets X-Gatehouse-User, which the app must read alone.
        var environ = await GetEnvironAsync(gateway, ["-u", "alice:" + FrontConfig.Password, .. Forged]);
        Assert.Equal("1", environ.GetValueOrDefault("HTTP_X_APP_HINT"));
        Assert.Equal("alice", environ.GetValueOrDefault("HTTP_X_GATEHOUSE_USER")); // not "alice,admin"
        Assert.False(environ.ContainsKey("HTTP_X_GATEHOUSE_PRINCIPAL"));
        Assert.DoesNotContain("6.6.6.6", environ.GetValueOrDefault("HTTP_X_FORWARDED_FOR"));
        Assert.Equal($"localhost:{gateway.PortOf(0)}", environ.GetValueOrDefault("HTTP_X_FORWARDED_HOST"));
        Assert.False(environ.ContainsKey("HTTP_X_AUTH_COUCHDB_ROLES"));
    }

    [Fact]
    public async Task RawHeaderLinesShowNoUnderscoreNameWithoutTheOptIn()
    {
        // The raw lines, as a non-WSGI backend would see them.
        await using var backend = new RecordingBackend();
        await using var gateway = await InProcessGateway.StartAsync(configJson: FrontConfig.Json(
            $$"""[ { "kind": "proxy", "name": "app", "prefix": "/app/", "backend": "http://127.0.0.1:{{backend.Port}}" } ]""",
            """[ { "principals": [ "ca:user" ], "proxy": [ "app" ] } ]"""));
        var client = ClientPem.Issue(gateway, "alice-laptop");
        var (code, _, stderr) = await Curl.RunAsync([.. FrontConfig.CaArgs(gateway), .. client.CurlArgs, .. Forged, "-H", "X-App-Hint: 2", FrontConfig.Https(gateway, "/app/x")]);
        Assert.True(code == 0, stderr);
        Assert.DoesNotContain(backend.Heads.Last().Split("\r\n").Skip(1), line => line[..line.IndexOf(':')].Contains('_'));
        Assert.Equal(["2"], backend.Values("X-App-Hint"));
    }

    private static Task<InProcessGateway> StartAsync(PythonHttpServer wsgi, bool? optIn) => InProcessGateway.StartAsync(
        configJson: FrontConfig.Json(
            $$"""[ { "kind": "proxy", "name": "app", "prefix": "/app/", "backend": "http://127.0.0.1:{{wsgi.Port}}", "access": { "usersFile": "users.passwd" }{{(optIn is { } allow ? $", \"allowUnderscoreHeaders\": {(allow ? "true" : "false")}" : "")}} } ]""",
            """[ { "principals": [ "ca:user" ], "proxy": [ "app" ] } ]"""),
        prepare: FrontConfig.WriteUsers);

    /// <summary>GET /app/ over TLS; the WSGI app's <c>HTTP_*</c> environ.</summary>
    private static async Task<Dictionary<string, string>> GetEnvironAsync(InProcessGateway gateway, string[] args)
    {
        var (code, stdout, stderr) = await Curl.RunAsync([.. FrontConfig.CaArgs(gateway), .. args, FrontConfig.Https(gateway, "/app/")]);
        Assert.True(code == 0, stderr);
        return JsonSerializer.Deserialize<Dictionary<string, string>>(stdout)!;
    }

    /// <summary>Sums <c>gatehouse.request.headers.dropped.underscore</c> while alive (the only test class that sends such names).</summary>
    private sealed class DroppedCounter : IDisposable
    {
        private readonly MeterListener _listener = new();
        private long _total;

        public DroppedCounter()
        {
            _listener.InstrumentPublished = (instrument, listener) =>
            {
                if (instrument.Name == "gatehouse.request.headers.dropped.underscore")
                {
                    listener.EnableMeasurementEvents(instrument);
                }
            };
            _listener.SetMeasurementEventCallback<long>((_, value, _, _) => Interlocked.Add(ref _total, value));
            _listener.Start();
        }

        public long Total => Interlocked.Read(ref _total);

        public void Dispose() => _listener.Dispose();
    }
}
