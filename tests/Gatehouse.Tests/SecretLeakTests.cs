using System.Net;
using System.Net.Sockets;
using System.Text;
using Gatehouse.Testing;

namespace Gatehouse.Tests;

/// <summary>
/// Issue 11: no secret ever reaches a log. The real executable goes through a whole session at
/// Debug level — init with a passphrase, passwd, serve with the passphrase and CouchDB credentials
/// on stdin, requests carrying Authorization headers and a token query parameter, refusals,
/// a dead backend and a malformed request — and every byte it wrote is searched for the secrets.
/// </summary>
public sealed class SecretLeakTests
{
    private const int SigTerm = 15;
    private const string Passphrase = TestSecrets.LeakPassphrase;
    private const string DevicePassword = TestSecrets.LeakDevicePassword;
    private const string BobPassword = TestSecrets.LeakBobPassword;
    private const string WrongPassword = TestSecrets.LeakWrongPassword;
    private const string Token = TestSecrets.LeakToken;
    private const string Bearer = TestSecrets.LeakBearer;

    [Fact]
    public async Task AWholeSessionAtDebugLevelLogsNoSecret()
    {
        using var dir = new TempDirectory();
        var output = new StringBuilder();
        var init = await GatehouseProcess.RunAsync(Passphrase + "\n", "init", dir.Path, "--name", "localhost");
        Assert.True(init.ExitCode == 0, init.Stderr);
        output.Append(init.Stdout).Append(init.Stderr);
        var passwd = await GatehouseProcess.RunAsync(BobPassword + "\n", "passwd", dir.File("users.passwd"), "bob");
        Assert.True(passwd.ExitCode == 0, passwd.Stderr);
        output.Append(passwd.Stdout).Append(passwd.Stderr);

        await using var couch = await PouchDbServer.StartAsync();
        await couch.CreateUserAsync("device", DevicePassword);
        await couch.CreateDatabaseAsync("notes", "device");

        using var deadBackend = LoopbackSockets.ReserveClosedPort();
        await File.WriteAllTextAsync(dir.File("gatehouse.json"), $$"""
            {
              "listen": [
                { "address": "::", "port": 0, "clientCertificate": "optional" },
                { "address": "127.0.0.1", "port": 0, "tls": false, "local": true }
              ],
              "tls": { "certificate": "server.crt", "key": "server.key" },
              "trust": { "cas": [ { "name": "user", "certificate": "ca.crt" } ] },
              "routes": [
                { "kind": "files", "prefix": "/files/", "stores": [ "store" ] },
                { "kind": "couchdb", "prefix": "/couch/" },
                { "kind": "proxy", "name": "app", "prefix": "/app/", "backend": "http://127.0.0.1:{{((IPEndPoint)deadBackend.LocalEndPoint!).Port}}",
                  "access": { "usersFile": "users.passwd" } }
              ],
              "rules": [
                { "principals": [ "ca:user" ], "role": "device", "files": [ "read", "write" ],
                  "couchdb": { "databases": [ "*" ], "allow": [ "pull", "push", "read", "write", "create" ] } }
              ]
            }
            """);
        var environment = $$"""
            { "couchdb": { "url": "{{couch.Url}}", "credentials": { "device": { "username": "device", "password": "{{DevicePassword}}" } } },
              "keyPassphrase": "{{Passphrase}}" }
            """;
        using var gatehouse = GatehouseProcess.Start(environment, "serve", "--config", dir.File("gatehouse.json"), "--env-stdin", "--log-level", "Debug");
        var ready = await gatehouse.WaitReadyAsync();
        var tlsPort = ready.GetProperty("listen")[0].GetProperty("port").GetInt32();
        var localPort = ready.GetProperty("listen")[1].GetProperty("port").GetInt32();
        var https = $"https://localhost:{tlsPort}";
        string[] device = ["--cacert", dir.File("ca.crt"), "--cert", dir.File("client.crt"), "--key", dir.File("client.key"), "--pass", Passphrase];

        // The device, with secrets in a header the gateway must strip and in the query.
        // A parameter CouchDB does not take is refused (issue 17); its value must not reach the log either.
        await Expect("400", [.. device, "-X", "PUT", "-H", "Authorization: Bearer " + Bearer, "-H", "Content-Type: application/json", "--data", "{\"a\":1}", $"{https}/couch/notes/doc1?token={Token}"]);
        await Expect("201", [.. device, "-X", "PUT", "-H", "Authorization: Bearer " + Bearer, "-H", "Content-Type: application/json", "--data", "{\"a\":1}", $"{https}/couch/notes/doc1"]);
        await Expect("200", [.. device, "-H", "Authorization: Bearer " + Bearer, $"{https}/couch/notes/doc1?_nonce={Token}"]);
        await Expect("403", [.. device, "-u", $"{PouchDbServer.AdminName}:{PouchDbServer.AdminPassword}", $"{https}/couch/_config?token={Token}"]);
        await Expect("400", [.. device, $"{https}/files/not-a-file-id?token={Token}"]); // a bad id: the files error path
        await Expect("404", [.. device, $"{https}/nowhere?access_token={Token}&token={Token}"]);

        // Basic users on the proxy route: a good login reaches a dead backend (502), a bad one is 401.
        await Expect("502", ["--cacert", dir.File("ca.crt"), "-u", $"bob:{BobPassword}", $"{https}/app/page?token={Token}"]);
        await Expect("401", ["--cacert", dir.File("ca.crt"), "-u", $"bob:{WrongPassword}", $"{https}/app/page?token={Token}"]);

        // The local user: metrics, and a malformed request carrying secrets in its header block.
        await Expect("200", ["-H", "Cookie: session=" + Token, $"http://127.0.0.1:{localPort}/_gatehouse/metrics?token={Token}"]);
        var malformed = await SendRawAsync(localPort, $"GET /couch/notes?token={Token} HTTP/1.1\r\nHost: x\r\nAuthorization: Basic {Basic("bob", BobPassword)}\r\nX-Folded: a\r\n {Bearer}\r\n\r\n");
        Assert.StartsWith("HTTP/1.1 400", malformed);

        gatehouse.Signal(SigTerm);
        Assert.Equal(0, await gatehouse.WaitForExitAsync(TimeSpan.FromSeconds(30)));
        output.Append(gatehouse.StandardOutput).Append(gatehouse.StandardError);
        var all = output.ToString();
        // Not vacuous: the logs really saw the requests, the refusals and the errors.
        foreach (var logged in new[] { "PUT /couch/notes/doc1 201", "GET /app/page 502", "GET /app/page 401", "basic login failed: user=bob", "GET /_gatehouse/metrics 200", "\"Category\":\"Gatehouse.Http\"" })
        {
            Assert.Contains(logged, all);
        }


        string[] secrets =
        [
            Passphrase, DevicePassword, BobPassword, WrongPassword, Token, Bearer, PouchDbServer.AdminPassword,
            Basic("bob", BobPassword), Basic("bob", WrongPassword), Basic("device", DevicePassword),
            Basic(PouchDbServer.AdminName, PouchDbServer.AdminPassword),
        ];
        foreach (var secret in secrets)
        {
            Assert.False(all.Contains(secret, StringComparison.Ordinal), $"a secret ({secret[..6]}…) appears in the output:\n{all}");
        }

        async Task Expect(string status, string[] args)
        {
            var result = await Curl.RunAsync([.. args, "-o", "/dev/null", "-w", "%{http_code}"]);
            Assert.True(result.Stdout == status, $"curl {string.Join(' ', args)}: {result.Stdout} {result.Stderr}\n{gatehouse.StandardError}");
        }
    }

    private static string Basic(string user, string password) => Convert.ToBase64String(Encoding.UTF8.GetBytes($"{user}:{password}"));


    private static async Task<string> SendRawAsync(int port, string request)
    {
        using var client = new TcpClient();
        await client.ConnectAsync(IPAddress.Loopback, port);
        var stream = client.GetStream();
        await stream.WriteAsync(Encoding.ASCII.GetBytes(request));
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(20));
        var buffer = new MemoryStream();
        var chunk = new byte[4096];
        int read;
        while ((read = await stream.ReadAsync(chunk, timeout.Token)) > 0)
        {
            buffer.Write(chunk, 0, read);
        }

        return Encoding.ASCII.GetString(buffer.ToArray());
    }
}
