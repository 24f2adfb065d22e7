using System.Net;
using System.Security.Cryptography;
using Gatehouse.Config;
using Gatehouse.Wire;

namespace Gatehouse.Tests;

/// <summary>Issue 4's access matrix through the policy: read, write and delete are separate grants; no grant is 403.</summary>
public sealed class FilesAccessMatrixTests
{
    [Theory]
    [InlineData("read", "GET", HttpStatusCode.OK)]
    [InlineData("read", "PUT", HttpStatusCode.Forbidden)]
    [InlineData("read", "DELETE", HttpStatusCode.Forbidden)]
    [InlineData("write", "GET", HttpStatusCode.Forbidden)]
    [InlineData("write", "PUT", HttpStatusCode.OK)]
    [InlineData("write", "DELETE", HttpStatusCode.Forbidden)]
    [InlineData("delete", "GET", HttpStatusCode.Forbidden)]
    [InlineData("delete", "DELETE", HttpStatusCode.NoContent)]
    [InlineData("", "GET", HttpStatusCode.Forbidden)]
    public async Task EachGrantOpensOnlyItsMethods(string grant, string method, HttpStatusCode expected)
    {
        var data = "a stored file"u8.ToArray();
        var id = Convert.ToHexStringLower(SHA256.HashData(data));
        await using var gateway = await InProcessGateway.StartAsync(config =>
        {
            config.Rules[0].Files = grant.Length == 0 ? [] : [grant];
            return config;
        });
        var path = Path.Combine(gateway.Dir.File("store"), "files", id[..2]);
        Directory.CreateDirectory(path);
        await File.WriteAllBytesAsync(Path.Combine(path, id[2..]), data);

        using var client = CertificateFactory.IssueClient(gateway.Ca, "alice-laptop");
        using var http = gateway.CreateClient(client);
        using var request = new HttpRequestMessage(new HttpMethod(method), "/files/" + id) { Content = method == "PUT" ? new ByteArrayContent(data) : null };
        using var response = await http.SendAsync(request);
        Assert.Equal(expected, response.StatusCode);
    }
}
