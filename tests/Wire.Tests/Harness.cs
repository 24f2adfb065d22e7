using System.Collections.Concurrent;
using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Authentication;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using Gatehouse.Wire;
using Microsoft.Extensions.Logging;

namespace Gatehouse.Wire.Tests;

/// <summary>A WireServer on port 0 with a tiny handler that writes the principal's pin and a newline, then closes.</summary>
internal sealed class Harness : IAsyncDisposable
{
    public Harness(TestPki pki, IReadOnlyList<ListenEndpoint> endpoints, WireLimits? limits = null, ConnectionHandler? handler = null, ClientTrust? trust = null, bool tlsTuning = true)
    {
        Server = new WireServer(endpoints, pki.Identity, trust ?? pki.Trust(), limits ?? new WireLimits(), handler ?? WritePin, Log, tlsTuning: tlsTuning);
        Server.Start();
        ServerPin = pki.Identity.Pin;
    }

    public WireServer Server { get; }

    public string ServerPin { get; }

    public ListLogger Log { get; } = new();

    /// <summary>Principals the default handler saw, in order.</summary>
    public ConcurrentQueue<WireConnection> Seen { get; } = new();

    public IPEndPoint Endpoint(int index = 0) => Server.BoundEndpoints[index];

    public static Harness Tls(TestPki pki, IPAddress address, ClientCertificateMode mode = ClientCertificateMode.Required, WireLimits? limits = null, ConnectionHandler? handler = null, ClientTrust? trust = null, bool tlsTuning = true) =>
        new(pki, [new ListenEndpoint { Address = address, Port = 0, ClientCertificate = mode }], limits, handler, trust, tlsTuning);

    public async ValueTask DisposeAsync() => await Server.StopAsync(TimeSpan.FromSeconds(2));

    private async Task WritePin(WireConnection connection, CancellationToken stopping)
    {
        Seen.Enqueue(connection);
        await connection.Stream.WriteAsync(Encoding.ASCII.GetBytes(connection.Principal.Pin + "\n"), stopping);
        await connection.Stream.FlushAsync(stopping);
    }
}

/// <summary>The client side: SslStream with an optional client certificate, checking the server by its pin.</summary>
internal static class TlsClient
{
    public static SslClientAuthenticationOptions Options(X509Certificate2? clientCertificate, string serverPin, SslProtocols protocols = SslProtocols.None) => new()
    {
        TargetHost = "localhost",
        ClientCertificates = clientCertificate is null ? null : [clientCertificate],
        EnabledSslProtocols = protocols,
        ApplicationProtocols = [SslApplicationProtocol.Http11],
        CertificateRevocationCheckMode = X509RevocationMode.NoCheck,
        // Outbound links pin the server's key the same way (DESIGN.md decision 1).
        RemoteCertificateValidationCallback = (_, cert, _, _) =>
            cert is X509Certificate2 c && KeyPin.Compute(c) == serverPin,
    };

    /// <summary>Connects, handshakes and reads the line the handler writes; throws when the handshake fails.</summary>
    public static async Task<string?> ReadLineAsync(IPEndPoint endpoint, SslClientAuthenticationOptions options)
    {
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        using TcpClient tcp = await ConnectAsync(endpoint, cts.Token);
        await using var tls = new SslStream(tcp.GetStream());
        await tls.AuthenticateAsClientAsync(options, cts.Token);
        using var reader = new StreamReader(tls, Encoding.ASCII);
        return await reader.ReadLineAsync(cts.Token);
    }

    public static Task<string?> ReadLineAsync(IPEndPoint endpoint, X509Certificate2? cert, string serverPin) =>
        ReadLineAsync(endpoint, Options(cert, serverPin));

    /// <summary>
    /// The client must not get in. With TLS 1.2 the handshake itself fails (an alert names why); with
    /// TLS 1.3 the server's Finished came before the client's certificate (RFC 8446 §4.4.2.4), so the
    /// client reads the refusal in words, a 403 (HandshakeRefusal), or the connection just ends.
    /// Either way no pin line ever arrives.
    /// </summary>
    public static async Task AssertRefusedAsync(IPEndPoint endpoint, X509Certificate2? cert, string serverPin, SslProtocols protocols = SslProtocols.None)
    {
        string? line;
        try
        {
            line = await ReadLineAsync(endpoint, Options(cert, serverPin, protocols));
        }
        catch (Exception ex) when (ex is AuthenticationException or IOException)
        {
            return;
        }

        if (line is not null)
        {
            Assert.Equal("HTTP/1.1 403 Forbidden", line);
        }
    }

    public static async Task<TcpClient> ConnectAsync(IPEndPoint endpoint, CancellationToken cancellationToken)
    {
        var tcp = new TcpClient(endpoint.AddressFamily);
        await tcp.ConnectAsync(endpoint, cancellationToken);
        return tcp;
    }
}

/// <summary>Collects log lines so tests can check what was logged and at which level.</summary>
internal sealed class ListLogger : ILogger
{
    public ConcurrentQueue<(LogLevel Level, string Message)> Lines { get; } = new();

    public IDisposable? BeginScope<TState>(TState state)
        where TState : notnull => null;

    public bool IsEnabled(LogLevel logLevel) => true;

    public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
        Lines.Enqueue((logLevel, formatter(state, exception)));
}
