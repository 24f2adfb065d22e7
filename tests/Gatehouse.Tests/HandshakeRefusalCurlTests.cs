using System.Security.Cryptography.X509Certificates;
using Gatehouse.Wire;

namespace Gatehouse.Tests;

/// <summary>
/// Issue 19 item 4, read the way a person meets it: what curl prints when it is refused. Over TLS 1.3
/// (curl's default) the refusal comes as a 403 that names the TLS alert; over TLS 1.2 as the alert
/// itself, which curl -v names. Before, every case printed "(52) Empty reply from server".
/// </summary>
public sealed class HandshakeRefusalCurlTests
{
    [Theory]
    [InlineData("none", "certificate_required", "TLS alert, handshake failure (552)")]
    [InlineData("stranger", "unknown_ca", "TLS alert, unknown CA (560)")]
    [InlineData("expired", "certificate_expired", "TLS alert, certificate expired (557)")]
    [InlineData("denied", "certificate_revoked", "TLS alert, certificate revoked (556)")]
    public async Task CurlPrintsWhyItWasRefused(string who, string alert, string curlTls12Line)
    {
        using var denied = CertificateFactory.CreateSelfSignedClient("lost-phone");
        await using var gateway = await InProcessGateway.StartAsync(configJson: $$"""
            {
              "listen": [ { "address": "127.0.0.1", "port": 0 } ],
              "tls": { "certificate": "server.crt", "key": "server.key" },
              "trust": { "cas": [ { "name": "user", "certificate": "ca.crt" } ], "deny": [ "{{KeyPin.Compute(denied)}}" ] },
              "routes": [ { "kind": "files", "prefix": "/files/", "stores": [ "store" ] } ],
              "rules": [ { "principals": [ "ca:user" ], "role": "device", "files": [ "read" ] } ]
            }
            """);
        using var stranger = CertificateFactory.CreateCertificateAuthority("stranger");
        // The test CA is backdated by an hour only: the expired key lived inside that hour.
        var now = DateTimeOffset.UtcNow;
        using X509Certificate2? issued = who switch
        {
            "stranger" => CertificateFactory.IssueClient(stranger, "elsewhere"),
            "expired" => CertificateFactory.IssueClient(gateway.Ca, "old", now.AddMinutes(-50), now.AddMinutes(-1)),
            _ => null,
        };
        X509Certificate2? client = who == "denied" ? denied : issued;
        string[] args = ["--cacert", gateway.Dir.File("ca.crt"), .. Pem(gateway, client), $"https://127.0.0.1:{gateway.Port}/_gatehouse/whoami"];

        var tls13 = await Curl.RunAsync(["-o", "-", "-w", " %{http_code}", .. args]);
        Assert.StartsWith($"Refused (TLS alert {alert}): ", tls13.Stdout, StringComparison.Ordinal);
        Assert.EndsWith(" 403", tls13.Stdout, StringComparison.Ordinal);

        var tls12 = await Curl.RunAsync(["-v", "--tls-max", "1.2", .. args]);
        Assert.NotEqual(0, tls12.ExitCode);
        Assert.Contains(curlTls12Line, tls12.Stderr, StringComparison.Ordinal);
        Assert.DoesNotContain("Empty reply", tls12.Stderr + tls13.Stderr, StringComparison.Ordinal);
    }

    private static string[] Pem(InProcessGateway gateway, X509Certificate2? client)
    {
        if (client is null)
        {
            return [];
        }

        var certificate = gateway.Dir.File("client.crt");
        var key = gateway.Dir.File("client.key");
        PemFiles.WriteCertificate(certificate, client);
        PemFiles.WritePrivateKey(key, client.GetECDsaPrivateKey()!, default);
        return ["--cert", certificate, "--key", key];
    }
}
