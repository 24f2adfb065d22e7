using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Gatehouse.Wire;

namespace Gatehouse.Tests;

/// <summary>The file store behind the gate, driven by curl with a client certificate, as a device would.</summary>
public sealed class FilesThroughGatewayTests
{
    [Fact]
    public async Task CurlUploadsAVerifiedFileAndReadsRangesBack()
    {
        await using var gateway = await InProcessGateway.StartAsync(config =>
        {
            config.Rules[0].Files = ["read", "write"];
            return config;
        });
        using var client = CertificateFactory.IssueClient(gateway.Ca, "alice-laptop");
        PemFiles.WriteCertificate(gateway.Dir.File("client.crt"), client);
        PemFiles.WritePrivateKey(gateway.Dir.File("client.key"), client.GetECDsaPrivateKey()!, default);
        var data = RandomNumberGenerator.GetBytes(3 * 1024 * 1024 + 17);
        await File.WriteAllBytesAsync(gateway.Dir.File("upload.bin"), data);
        var id = Convert.ToHexStringLower(SHA256.HashData(data));
        string[] tls = ["-k", "--pinnedpubkey", gateway.Server.Pin, "--cert", gateway.Dir.File("client.crt"), "--key", gateway.Dir.File("client.key")];
        var url = $"https://localhost:{gateway.Port}/files/{id}";

        var put = await Curl.RunAsync([.. tls, "-T", gateway.Dir.File("upload.bin"), "-o", "/dev/null", "-w", "%{http_code}", url]);
        Assert.True(put.Stdout == "201", put.Stdout + put.Stderr);

        var get = await Curl.RunAsync([.. tls, "-o", gateway.Dir.File("download.bin"), "-w", "%{http_code}", url]);
        Assert.Equal("200", get.Stdout);
        Assert.Equal(data, await File.ReadAllBytesAsync(gateway.Dir.File("download.bin")));

        var range = await Curl.RunAsync([.. tls, "-r", "100-199", "-o", gateway.Dir.File("range.bin"), "-w", "%{http_code}", url]);
        Assert.Equal("206", range.Stdout);
        Assert.Equal(data.AsSpan(100, 100).ToArray(), await File.ReadAllBytesAsync(gateway.Dir.File("range.bin")));

        // A body that does not hash to its name is refused and leaves nothing visible.
        var wrongId = new string('0', 64);
        var mismatch = await Curl.RunAsync([.. tls, "-T", gateway.Dir.File("upload.bin"), "-o", "/dev/null", "-w", "%{http_code}", $"https://localhost:{gateway.Port}/files/{wrongId}"]);
        Assert.Equal("409", mismatch.Stdout);
        var after = await Curl.RunAsync([.. tls, "-o", "/dev/null", "-w", "%{http_code}", $"https://localhost:{gateway.Port}/files/{wrongId}"]);
        Assert.Equal("404", after.Stdout);
    }
}
