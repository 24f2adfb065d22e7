using Gatehouse.Front;

namespace Gatehouse.Tests;

/// <summary>Configs for the Pound-mode tests: a TLS listener with optional certificates, and a plain local one.</summary>
internal static class FrontConfig
{
    public const string Password = TestSecrets.FrontPassword;

    /// <param name="routes">The JSON array of routes.</param>
    /// <param name="rules">The JSON array of rules.</param>
    /// <param name="unrestricted">Whether the plain local listener (listen[1]) is unrestricted.</param>
    public static string Json(string routes, string rules = "[]", bool unrestricted = true) => $$"""
        {
          "listen": [
            { "address": "::", "port": 0, "clientCertificate": "optional" },
            { "address": "127.0.0.1", "port": 0, "tls": false, "local": true, "unrestricted": {{(unrestricted ? "true" : "false")}} }
          ],
          "tls": { "certificate": "server.crt", "key": "server.key" },
          "trust": { "cas": [ { "name": "user", "certificate": "ca.crt" } ] },
          "routes": {{routes}},
          "rules": {{rules}},
          "limits": { "handshakeTimeout": 5 }
        }
        """;

    /// <summary>Writes users.passwd with alice's hash (the file the routes name).</summary>
    public static void WriteUsers(TempDirectory dir) =>
        File.WriteAllText(dir.File("users.passwd"), PasswordHash.Create("alice", Password) + "\n");

    public static string Https(InProcessGateway gateway, string path) => $"https://localhost:{gateway.PortOf(0)}{path}";

    public static string Local(InProcessGateway gateway, string path) => $"http://127.0.0.1:{gateway.PortOf(1)}{path}";

    public static string[] CaArgs(InProcessGateway gateway) => ["--cacert", gateway.Dir.File("ca.crt")];
}
