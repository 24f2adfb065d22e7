using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using System.Text.RegularExpressions;
using Gatehouse.Config;
using Gatehouse.Wire;

namespace Gatehouse.Tests;

/// <summary>
/// Issue 4: <c>rules[].maxUploadBytes</c> caps a principal's uploads. A declared length over it is
/// 413 before a body byte is read; a chunked body is cut off with 413 once it passes it, and no
/// temp file stays; a principal another rule grants write without a limit is not capped.
/// </summary>
public sealed class FileUploadLimitTests
{
    private const long Limit = 100_000;

    [Fact]
    public async Task AContentLengthOverTheLimitIsRefusedBeforeTheBodyIsSent()
    {
        await using var gate = await LimitedGateway.StartAsync();
        await using var tls = await ConnectAsync(gate.Gateway, gate.Alice);

        // Only the head: had the server waited for the body, no answer would come.
        await tls.WriteAsync(Encoding.ASCII.GetBytes($"PUT /files/{new string('a', 64)} HTTP/1.1\r\nHost: localhost\r\nContent-Length: {Limit + 1}\r\n\r\n"));
        var answer = await ReadResponseAsync(tls);

        Assert.StartsWith("HTTP/1.1 413 ", answer, StringComparison.Ordinal);
        Assert.Contains("the upload limit for this key", answer, StringComparison.Ordinal);
        AssertStoreEmpty(gate.Gateway);
    }

    [Fact]
    public async Task AChunkedBodyPassingTheLimitIsRefusedAndLeavesNoTempFile()
    {
        await using var gate = await LimitedGateway.StartAsync();
        await using var tls = await ConnectAsync(gate.Gateway, gate.Alice);
        var data = RandomNumberGenerator.GetBytes(3 * (int)Limit);
        var id = Convert.ToHexStringLower(SHA256.HashData(data));

        var sending = Task.Run(async () =>
        {
            try
            {
                await tls.WriteAsync(Encoding.ASCII.GetBytes($"PUT /files/{id} HTTP/1.1\r\nHost: localhost\r\nTransfer-Encoding: chunked\r\n\r\n"));
                for (var at = 0; at < data.Length; at += 16 * 1024)
                {
                    var chunk = data.AsMemory(at, Math.Min(16 * 1024, data.Length - at));
                    await tls.WriteAsync(Encoding.ASCII.GetBytes($"{chunk.Length:x}\r\n"));
                    await tls.WriteAsync(chunk);
                    await tls.WriteAsync("\r\n"u8.ToArray());
                }

                await tls.WriteAsync("0\r\n\r\n"u8.ToArray());
            }
            catch (IOException)
            {
                // the server may close once it has answered
            }
        });
        var answer = await ReadResponseAsync(tls);
        await sending;

        Assert.StartsWith("HTTP/1.1 413 ", answer, StringComparison.Ordinal);
        Assert.Contains("Connection: close", answer, StringComparison.Ordinal);
        AssertStoreEmpty(gate.Gateway);
    }

    [Fact]
    public async Task UploadsWithinTheLimitAndFromAnUnlimitedKeyAreStored()
    {
        await using var gate = await LimitedGateway.StartAsync();
        var gateway = gate.Gateway;
        var small = RandomNumberGenerator.GetBytes((int)Limit);
        var large = RandomNumberGenerator.GetBytes(3 * (int)Limit);

        using (var http = gateway.CreateClient(gate.Alice))
        {
            using var atLimit = await http.PutAsync($"files/{IdOf(small)}", new ByteArrayContent(small));
            Assert.Equal(HttpStatusCode.Created, atLimit.StatusCode);
        }

        // Bob is named by the limited rule too, but his own rule grants write with no limit.
        using (var http = gateway.CreateClient(gate.Bob))
        {
            using var content = new StreamContent(new MemoryStream(large)); // no Content-Length: chunked
            using var request = new HttpRequestMessage(HttpMethod.Put, $"files/{IdOf(large)}") { Content = content };
            request.Headers.TransferEncodingChunked = true;
            using var unlimited = await http.SendAsync(request);
            Assert.Equal(HttpStatusCode.Created, unlimited.StatusCode);
        }

        Assert.Equal(large, await File.ReadAllBytesAsync(gateway.Dir.File($"store/files/{IdOf(large)[..2]}/{IdOf(large)[2..]}")));
        Assert.Empty(Directory.GetFiles(gateway.Dir.File("store/tmp")));
    }

    [Theory]
    [InlineData("""[ "read" ], "maxUploadBytes": 1000""", "no \"files\": [\"write\"] grant")]
    [InlineData("""[ "write" ], "maxUploadBytes": -1""", "0 or more")]
    public void AMisplacedOrNegativeLimitIsAConfigError(string files, string message)
    {
        using var dir = new TempDirectory();
        var json = $$"""
            { "listen": [ { "address": "127.0.0.1", "port": 0, "tls": false, "local": true } ],
              "routes": [ { "kind": "files", "prefix": "/files/", "stores": [ "store" ] } ],
              "rules": [ { "principals": [ "local" ], "files": {{files}} } ] }
            """;
        var ex = Assert.Throws<ConfigException>(() => ConfigLoader.Parse(json, dir.File("gatehouse.json")));
        Assert.Contains("rules[0].maxUploadBytes", ex.Message, StringComparison.Ordinal);
        Assert.Contains(message, ex.Message, StringComparison.Ordinal);
    }

    private static string IdOf(byte[] data) => Convert.ToHexStringLower(SHA256.HashData(data));

    private static void AssertStoreEmpty(InProcessGateway gateway)
    {
        var tmp = gateway.Dir.File("store/tmp");
        Assert.True(!Directory.Exists(tmp) || Directory.GetFiles(tmp).Length == 0, "temp file left behind");
        var files = gateway.Dir.File("store/files");
        Assert.True(!Directory.Exists(files) || Directory.GetFiles(files, "*", SearchOption.AllDirectories).Length == 0, "a file was stored");
    }

    private static async Task<SslStream> ConnectAsync(InProcessGateway gateway, X509Certificate2 client)
    {
        var tcp = new TcpClient();
        await tcp.ConnectAsync(IPAddress.Loopback, gateway.Port);
        var tls = new SslStream(tcp.GetStream(), leaveInnerStreamOpen: false);
        await tls.AuthenticateAsClientAsync(new SslClientAuthenticationOptions
        {
            TargetHost = "localhost",
            ClientCertificates = [client],
            RemoteCertificateValidationCallback = (_, certificate, _, _) => certificate is not null && KeyPin.Compute(new X509Certificate2(certificate)) == gateway.Server.Pin,
        });
        return tls;
    }

    /// <summary>Reads one response (head and Content-Length body) as text, with a deadline.</summary>
    private static async Task<string> ReadResponseAsync(SslStream tls)
    {
        using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(20));
        var received = new List<byte>();
        var buffer = new byte[4096];
        while (!IsComplete(Encoding.ASCII.GetString([.. received])))
        {
            var read = await tls.ReadAsync(buffer, deadline.Token);
            if (read == 0)
            {
                break;
            }

            received.AddRange(buffer.AsSpan(0, read));
        }

        return Encoding.ASCII.GetString([.. received]);
    }

    private static bool IsComplete(string text)
    {
        var headEnd = text.IndexOf("\r\n\r\n", StringComparison.Ordinal);
        var length = Regex.Match(text, "Content-Length: (\\d+)");
        return headEnd >= 0 && length.Success && text.Length >= headEnd + 4 + int.Parse(length.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture);
    }

    /// <summary>
    /// A gateway where Alice (any key from the user CA) may upload up to <see cref="Limit"/>. Bob (a
    /// pinned key) is named by that rule too, but his own rule grants write with no limit: the most
    /// generous applies.
    /// </summary>
    private sealed class LimitedGateway : IAsyncDisposable
    {
        private LimitedGateway(InProcessGateway gateway, X509Certificate2 alice, X509Certificate2 bob)
        {
            Gateway = gateway;
            Alice = alice;
            Bob = bob;
        }

        public InProcessGateway Gateway { get; }

        public X509Certificate2 Alice { get; }

        public X509Certificate2 Bob { get; }

        public static async Task<LimitedGateway> StartAsync()
        {
            var bob = CertificateFactory.CreateSelfSignedClient("bob");
            var gateway = await InProcessGateway.StartAsync(config =>
            {
                config.Trust.Pins.Add(new PinConfig { Name = "bob", Pin = KeyPin.Compute(bob) });
                config.Rules =
                [
                    new RuleConfig { Principals = ["ca:user", "pinned:bob"], Role = "device", Files = ["read", "write"], MaxUploadBytes = Limit },
                    new RuleConfig { Principals = ["pinned:bob"], Role = "device", Files = ["write"] },
                ];
                return config;
            });
            return new LimitedGateway(gateway, CertificateFactory.IssueClient(gateway.Ca, "alice-laptop"), bob);
        }

        public async ValueTask DisposeAsync()
        {
            await Gateway.DisposeAsync();
            Alice.Dispose();
            Bob.Dispose();
        }
    }
}
