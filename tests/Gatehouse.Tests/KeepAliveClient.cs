using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Authentication;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using Gatehouse.Wire;

namespace Gatehouse.Tests;

/// <summary>One HTTP/1.1 keep-alive connection over TLS, as a browser or a replicator holds it.</summary>
public sealed class KeepAliveClient : IAsyncDisposable
{
    private readonly TcpClient _tcp;
    private readonly SslStream _tls;
    private readonly List<byte> _received = []; // read from the server and not yet consumed

    private KeepAliveClient(TcpClient tcp, SslStream tls, string serverPin)
    {
        _tcp = tcp;
        _tls = tls;
        ServerPin = serverPin;
    }

    public string ServerPin { get; }

    public static async Task<KeepAliveClient> OpenAsync(IPEndPoint endpoint, X509Certificate2 certificate)
    {
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        var tcp = new TcpClient(endpoint.AddressFamily);
        try
        {
            await tcp.ConnectAsync(endpoint, cts.Token);
            var tls = new SslStream(tcp.GetStream());
            string? serverPin = null;
            await tls.AuthenticateAsClientAsync(
                new SslClientAuthenticationOptions
                {
                    TargetHost = "localhost",
                    ClientCertificates = [certificate],
                    ApplicationProtocols = [SslApplicationProtocol.Http11],
                    CertificateRevocationCheckMode = X509RevocationMode.NoCheck,
                    // Records which server key was shown; the tests check it.
                    RemoteCertificateValidationCallback = (_, cert, _, _) =>
                    {
                        serverPin = cert is X509Certificate2 c ? KeyPin.Compute(c) : null;
                        return serverPin is not null;
                    },
                },
                cts.Token);
            return new KeepAliveClient(tcp, tls, serverPin!);
        }
        catch
        {
            tcp.Dispose();
            throw;
        }
    }

    /// <summary>Sends a GET and reads the whole answer (Content-Length framed); returns the status code.</summary>
    public async Task<int> GetStatusAsync(string path)
    {
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        var head = await SendGetAsync(path, cts.Token);
        var lengthLine = head.Split("\r\n").First(l => l.StartsWith("content-length:", StringComparison.OrdinalIgnoreCase));
        var length = int.Parse(lengthLine["content-length:".Length..].Trim(), System.Globalization.CultureInfo.InvariantCulture);
        await ReadMoreUntilAsync(() => _received.Count >= length, "the server closed the connection mid-body", cts.Token);
        _received.RemoveRange(0, length);
        return StatusOf(head);
    }

    /// <summary>
    /// Sends a GET whose answer streams (a continuous <c>_changes</c> feed) and reads up to the end of
    /// the head; returns the status. The body is left to <see cref="ReadUntilAsync"/> and <see cref="WaitClosedAsync"/>.
    /// </summary>
    public async Task<int> StartStreamAsync(string path)
    {
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        return StatusOf(await SendGetAsync(path, cts.Token));
    }

    /// <summary>Reads the streamed body until <paramref name="text"/> has arrived (framing bytes included).</summary>
    public async Task ReadUntilAsync(string text, TimeSpan timeout)
    {
        using var cts = new CancellationTokenSource(timeout);
        await ReadMoreUntilAsync(
            () => Encoding.UTF8.GetString([.. _received]).Contains(text, StringComparison.Ordinal),
            $"the server closed the stream before \"{text}\"",
            cts.Token);
    }

    /// <summary>Sends <paramref name="request"/> byte for byte and returns the answer's head; the rest is left for <see cref="ReadBodyAsync"/>.</summary>
    public async Task<string> SendRawAsync(string request)
    {
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        await _tls.WriteAsync(Encoding.Latin1.GetBytes(request), cts.Token);
        return await ReadHeadAsync(cts.Token);
    }

    /// <summary>Sends <paramref name="bytes"/> without waiting for an answer (bytes into a tunnel).</summary>
    public async Task WriteRawAsync(string bytes)
    {
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        await _tls.WriteAsync(Encoding.Latin1.GetBytes(bytes), cts.Token);
    }

    /// <summary>Reads <paramref name="length"/> bytes after a head (a Content-Length body, or tunnelled bytes).</summary>
    public async Task<string> ReadBodyAsync(int length)
    {
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        await ReadMoreUntilAsync(() => _received.Count >= length, "the server closed the connection mid-body", cts.Token);
        var body = Encoding.Latin1.GetString([.. _received.Take(length)]);
        _received.RemoveRange(0, length);
        return body;
    }

    /// <summary>Sends a GET and reads the answer's head, which it returns; what follows stays in <see cref="_received"/>.</summary>
    private async Task<string> SendGetAsync(string path, CancellationToken cancellationToken)
    {
        await _tls.WriteAsync(Encoding.ASCII.GetBytes($"GET {path} HTTP/1.1\r\nHost: localhost\r\n\r\n"), cancellationToken);
        return await ReadHeadAsync(cancellationToken);
    }

    private async Task<string> ReadHeadAsync(CancellationToken cancellationToken)
    {
        var headerEnd = -1;
        await ReadMoreUntilAsync(() => (headerEnd = IndexOfHeaderEnd(_received)) >= 0, "the server closed the connection", cancellationToken);
        var head = Encoding.ASCII.GetString([.. _received.Take(headerEnd)]);
        _received.RemoveRange(0, headerEnd + 4);
        return head;
    }

    private async Task ReadMoreUntilAsync(Func<bool> done, string closedEarly, CancellationToken cancellationToken)
    {
        var buffer = new byte[4096];
        while (!done())
        {
            var read = await _tls.ReadAsync(buffer, cancellationToken);
            if (read == 0)
            {
                throw new IOException(closedEarly);
            }

            _received.AddRange(buffer.AsSpan(0, read));
        }
    }

    private static int StatusOf(string head) => int.Parse(head.Split(' ')[1], System.Globalization.CultureInfo.InvariantCulture);

    /// <summary>Completes when the server ends the connection (end of stream or a reset).</summary>
    public async Task WaitClosedAsync()
    {
        var buffer = new byte[256];
        try
        {
            while (await _tls.ReadAsync(buffer) > 0)
            {
            }
        }
        catch (Exception ex) when (ex is IOException or AuthenticationException or ObjectDisposedException)
        {
            // a reset is a close too
        }
    }

    /// <summary>True while the server has neither answered nor closed: nothing to read, no end of stream.</summary>
    public bool Quiet => _received.Count == 0 && !_tcp.Client.Poll(0, SelectMode.SelectRead);

    /// <summary>Leaves as a crashed client does: a TCP reset, no close_notify, no FIN.</summary>
    public void Reset()
    {
        _tcp.Client.LingerState = new LingerOption(true, 0);
        _tcp.Client.Close();
    }

    public async ValueTask DisposeAsync()
    {
        await _tls.DisposeAsync();
        _tcp.Dispose();
    }

    private static int IndexOfHeaderEnd(List<byte> bytes)
    {
        for (var i = 0; i + 3 < bytes.Count; i++)
        {
            if (bytes[i] == '\r' && bytes[i + 1] == '\n' && bytes[i + 2] == '\r' && bytes[i + 3] == '\n')
            {
                return i;
            }
        }

        return -1;
    }
}
