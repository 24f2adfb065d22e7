using System.Text;
using System.Text.Json;
using Gatehouse.Config;

namespace Gatehouse.Tests;

/// <summary>
/// Issue 19 items 1 and 2, over real TLS with curl: an app behind a proxy route gets the client's
/// own Cookie and (where the gateway does no Basic login) Authorization, its Set-Cookie is fitted
/// to the mount, and CouchDB still never sees either (DESIGN.md decision 4).
/// </summary>
public sealed class FrontCredentialTests
{
    private const string SessionCookie = "session=app-login-7";
    private const string AppToken = "Bearer app-token-42";

    private static readonly string[] AppCredentials = ["-H", "Cookie: " + SessionCookie, "-H", "Authorization: " + AppToken];

    private static Task<InProcessGateway> StartAsync(string routes, StdinEnvironment? environment = null, string rules = """[ { "principals": [ "ca:user" ], "proxy": [ "app" ] } ]""") =>
        InProcessGateway.StartAsync(configJson: FrontConfig.Json(routes, rules), prepare: FrontConfig.WriteUsers, environment: environment);

    private static async Task GetAsync(InProcessGateway gateway, ClientPem client, string path, params string[] extra)
    {
        var (code, _, stderr) = await Curl.RunAsync([.. FrontConfig.CaArgs(gateway), .. client.CurlArgs, .. extra, FrontConfig.Https(gateway, path)]);
        Assert.True(code == 0, stderr);
    }

    [Fact]
    public async Task TheAppsCookieAndAuthorizationReachARouteWithoutBasicLogin()
    {
        await using var backend = new RecordingBackend();
        await using var gateway = await StartAsync($$"""
            [ { "kind": "proxy", "name": "app", "prefix": "/app/", "backend": "http://127.0.0.1:{{backend.Port}}" },
              { "kind": "proxy", "name": "closed", "prefix": "/closed/", "backend": "http://127.0.0.1:{{backend.Port}}", "passAuthorization": false } ]
            """, rules: """[ { "principals": [ "ca:user" ], "proxy": [ "app", "closed" ] } ]""");
        var client = ClientPem.Issue(gateway, "alice-laptop");

        await GetAsync(gateway, client, "/app/notebook", AppCredentials);
        Assert.Equal([SessionCookie], backend.Values("Cookie"));
        Assert.Equal([AppToken], backend.Values("Authorization"));

        // passAuthorization: false keeps the app's token out, but not its session cookie.
        await GetAsync(gateway, client, "/closed/notebook", AppCredentials);
        Assert.Equal([SessionCookie], backend.Values("Cookie"));
        Assert.Empty(backend.Values("Authorization"));
    }

    [Fact]
    public async Task ARouteWithBasicLoginConsumesAuthorizationButPassesTheCookie()
    {
        await using var backend = new RecordingBackend();
        await using var gateway = await StartAsync($$"""
            [ { "kind": "proxy", "name": "app", "prefix": "/app/", "backend": "http://127.0.0.1:{{backend.Port}}", "access": { "usersFile": "users.passwd" } } ]
            """);

        // A Basic login: the gateway reads the password and never forwards it.
        var (code, _, stderr) = await Curl.RunAsync([.. FrontConfig.CaArgs(gateway), "-u", "alice:" + FrontConfig.Password, "-H", "Cookie: " + SessionCookie, FrontConfig.Https(gateway, "/app/x")]);
        Assert.True(code == 0, stderr);
        Assert.Equal(["alice"], backend.Values("X-Gatehouse-User"));
        Assert.Equal([SessionCookie], backend.Values("Cookie"));
        Assert.Empty(backend.Values("Authorization"));

        // A certificate caller's Authorization is not forwarded either: the route's logins are the gateway's.
        var client = ClientPem.Issue(gateway, "alice-laptop");
        await GetAsync(gateway, client, "/app/x", AppCredentials);
        Assert.Equal([SessionCookie], backend.Values("Cookie"));
        Assert.Empty(backend.Values("Authorization"));
    }

    [Fact]
    public async Task SetCookieIsFittedToAStrippedMountUnlessTheRouteKeepsIt()
    {
        const string Answer = "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n"
            + "Set-Cookie: sid=1; Path=/; HttpOnly\r\n"
            + "Set-Cookie: pref=dark; path=/settings; Domain=127.0.0.1; Secure\r\n"
            + "Set-Cookie: plain=2\r\n"
            + "Set-Cookie: odd=3; Path=relative; domain=.localhost\r\n\r\n";
        await using var backend = new RecordingBackend(_ => Answer);
        await using var gateway = await StartAsync($$"""
            [ { "kind": "proxy", "name": "app", "prefix": "/notebook/", "backend": "http://127.0.0.1:{{backend.Port}}" },
              { "kind": "proxy", "name": "kept", "prefix": "/kept/", "backend": "http://127.0.0.1:{{backend.Port}}", "cookiePath": "keep", "cookieDomain": "keep" },
              { "kind": "proxy", "name": "whole", "prefix": "/whole/", "stripPrefix": false, "backend": "http://127.0.0.1:{{backend.Port}}" } ]
            """, rules: """[ { "principals": [ "ca:user" ], "proxy": [ "app", "kept", "whole" ] } ]""");
        var client = ClientPem.Issue(gateway, "alice-laptop");
        async Task<List<string>> SetCookiesOf(string path)
        {
            var (code, stdout, stderr) = await Curl.RunAsync([.. FrontConfig.CaArgs(gateway), .. client.CurlArgs, "-D", "-", "-o", "/dev/null", FrontConfig.Https(gateway, path)]);
            Assert.True(code == 0, stderr);
            return [.. stdout.Split("\r\n").Where(l => l.StartsWith("Set-Cookie: ", StringComparison.OrdinalIgnoreCase)).Select(l => l["Set-Cookie: ".Length..])];
        }

        Assert.Equal(["sid=1; Path=/notebook/; HttpOnly", "pref=dark; path=/notebook/settings; Secure", "plain=2", "odd=3; Path=relative"], await SetCookiesOf("/notebook/"));
        Assert.Equal(["sid=1; Path=/; HttpOnly", "pref=dark; path=/settings; Domain=127.0.0.1; Secure", "plain=2", "odd=3; Path=relative; domain=.localhost"], await SetCookiesOf("/kept/"));

        // Nothing stripped, nothing to move: only Domain goes.
        Assert.Equal(["sid=1; Path=/; HttpOnly", "pref=dark; path=/settings; Secure", "plain=2", "odd=3; Path=relative"], await SetCookiesOf("/whole/"));
    }

    [Fact]
    public async Task TheSameCredentialsReachTheAppButNeverCouchDb()
    {
        await using var app = new RecordingBackend();
        await using var couch = new RecordingBackend(_ => "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n{}");
        var environment = JsonSerializer.Deserialize(
            $$"""{ "couchdb": { "url": "http://127.0.0.1:{{couch.Port}}/", "credentials": { "device": { "username": "device", "password": "{{TestSecrets.CouchDevicePassword}}" } } } }""",
            ConfigJsonContext.Default.StdinEnvironment);
        await using var gateway = await StartAsync(
            $$"""
            [ { "kind": "couchdb", "prefix": "/couch/" },
              { "kind": "proxy", "name": "app", "prefix": "/app/", "backend": "http://127.0.0.1:{{app.Port}}" } ]
            """,
            environment,
            """[ { "principals": [ "ca:user" ], "role": "device", "proxy": [ "app" ], "couchdb": { "databases": [ "*" ], "allow": [ "read" ] } } ]""");
        var client = ClientPem.Issue(gateway, "alice-laptop");
        string[] stolen = ["-H", "Cookie: " + TestSecrets.StolenCookie, "-H", "Authorization: Basic " + Convert.ToBase64String(Encoding.UTF8.GetBytes("admin:admin"))];

        await GetAsync(gateway, client, "/app/x", stolen);
        Assert.Equal([TestSecrets.StolenCookie], app.Values("Cookie"));

        await GetAsync(gateway, client, "/couch/db/doc", stolen);
        Assert.Empty(couch.Values("Cookie")); // CouchDB's AuthSession never passes
        var device = "Basic " + Convert.ToBase64String(Encoding.UTF8.GetBytes("device:" + TestSecrets.CouchDevicePassword));
        Assert.Equal([device], couch.Values("Authorization")); // only the role's credential
    }

    [Theory]
    [InlineData("""{ "kind": "proxy", "prefix": "/a/", "backend": "http://127.0.0.1:1", "access": { "usersFile": "users.passwd" }, "passAuthorization": true }""", "password is never forwarded")]
    [InlineData("""{ "kind": "proxy", "prefix": "/a/", "backend": "http://127.0.0.1:1", "cookiePath": "strip" }""", "cookiePath: must be \"rewrite\" or \"keep\"")]
    [InlineData("""{ "kind": "proxy", "prefix": "/a/", "backend": "http://127.0.0.1:1", "cookieDomain": "rewrite" }""", "cookieDomain: must be \"drop\" or \"keep\"")]
    [InlineData("""{ "kind": "couchdb", "prefix": "/couch/", "passAuthorization": true }""", "passAuthorization, cookiePath and cookieDomain are for proxy routes")]
    public void CredentialSettingsThatCannotHoldAreRefusedAtStartup(string route, string message)
    {
        using var dir = new TempDirectory();
        FrontConfig.WriteUsers(dir);
        var ex = Assert.Throws<ConfigException>(() => ConfigLoader.Parse(FrontConfig.Json($"[ {route} ]"), dir.File("gatehouse.json")));
        Assert.Contains(message, ex.Message);
    }
}
