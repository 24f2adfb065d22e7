using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using System.Text.RegularExpressions;
using Gatehouse.Config;
using Gatehouse.Wire;

namespace Gatehouse.Tests.Smuggling;

/// <summary>A gateway whose only route proxies everything to a <see cref="RecordingBackend"/>.</summary>
public sealed partial class SmuggleGateway : IAsyncLifetime
{
    private InProcessGateway? _gateway;

    public RecordingBackend Backend { get; } = new();

    public X509Certificate2 Client { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        _gateway = await InProcessGateway.StartAsync(config =>
        {
            config.Routes = [new RouteConfig { Kind = "proxy", Prefix = "/", Backend = $"http://127.0.0.1:{Backend.Port}" }];
            config.Rules = [new RuleConfig { Principals = ["ca:user"], Proxy = ["/"] }];
            return config;
        });
        Client = CertificateFactory.IssueClient(_gateway.Ca, "smuggler");
    }

    public async Task DisposeAsync()
    {
        if (_gateway is not null)
        {
            await _gateway.DisposeAsync();
        }

        await Backend.DisposeAsync();
        Client?.Dispose();
    }

    /// <summary>
    /// Sends <paramref name="raw"/> over one TLS connection, ends the sending side unless the
    /// vector is incomplete, and returns the final status codes of the responses until close.
    /// </summary>
    public async Task<List<int>> SendAsync(byte[] raw, bool endInput)
    {
        using var tcp = new TcpClient();
        await tcp.ConnectAsync(IPAddress.Loopback, _gateway!.Port);
        await using var tls = new SslStream(tcp.GetStream());
        await tls.AuthenticateAsClientAsync(new SslClientAuthenticationOptions
        {
            TargetHost = "localhost",
            ClientCertificates = [Client],
            RemoteCertificateValidationCallback = (_, _, _, _) => true,
        });
        await tls.WriteAsync(raw);
        if (endInput)
        {
            await tls.ShutdownAsync();
        }

        var received = new MemoryStream();
        var buffer = new byte[16 * 1024];
        using var timeout = new CancellationTokenSource(endInput ? TimeSpan.FromSeconds(15) : TimeSpan.FromMilliseconds(500));
        try
        {
            int read;
            while ((read = await tls.ReadAsync(buffer, timeout.Token)) > 0)
            {
                received.Write(buffer, 0, read);
            }
        }
        catch (Exception ex) when (ex is IOException or OperationCanceledException)
        {
            if (endInput && ex is OperationCanceledException)
            {
                throw new TimeoutException("the gateway neither answered nor closed");
            }
        }

        var text = Encoding.Latin1.GetString(received.ToArray());
        return [.. StatusLine().Matches(text).Select(m => int.Parse(m.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture)).Where(s => s >= 200)];
    }

    [GeneratedRegex(@"HTTP/1\.[01] (\d{3}) [^\r\n]*\r\n")]
    private static partial Regex StatusLine();
}
