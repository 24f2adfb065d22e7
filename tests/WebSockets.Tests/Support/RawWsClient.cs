using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Authentication;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using Gatehouse.Testing;
using Gatehouse.Wire;

namespace Gatehouse.WebSockets.Tests.Support;

/// <summary>
/// A raw TLS client that sends exact bytes (handshakes, pre-masked frames) and reads the server's
/// unmasked frames back. Test-side only: it reads frames to judge the server, and frames nothing itself.
/// </summary>
internal sealed class RawWsClient : IAsyncDisposable
{
    private readonly Socket _socket;
    private readonly SslStream _tls;
    private readonly TlsRecordCounter _records;
    private readonly List<byte> _pending = [];
    private readonly byte[] _scratch = new byte[64 * 1024];

    private RawWsClient(Socket socket, SslStream tls, TlsRecordCounter records)
    {
        _socket = socket;
        _tls = tls;
        _records = records;
    }

    /// <summary>TLS records received from the server so far.</summary>
    public long RecordsReceived => _records.Records;

    public static async Task<RawWsClient> ConnectAsync(IPEndPoint endpoint, X509Certificate2 client, string serverPin)
    {
        var socket = new Socket(endpoint.AddressFamily, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        await socket.ConnectAsync(endpoint, cts.Token);
        var records = new TlsRecordCounter(new NetworkStream(socket, ownsSocket: false));
        var tls = new SslStream(records);
        await tls.AuthenticateAsClientAsync(
            new SslClientAuthenticationOptions
            {
                TargetHost = "localhost",
                ClientCertificates = [client],
                ApplicationProtocols = [SslApplicationProtocol.Http11],
                CertificateRevocationCheckMode = X509RevocationMode.NoCheck,
                RemoteCertificateValidationCallback = (_, cert, _, _) => cert is X509Certificate2 c && KeyPin.Compute(c) == serverPin,
            },
            cts.Token);
        return new RawWsClient(socket, tls, records);
    }

    public static string UpgradeRequest(string path, params string[] extraHeaders) =>
        $"GET {path} HTTP/1.1\r\nHost: localhost\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
        "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n" +
        string.Concat(extraHeaders.Select(h => h + "\r\n")) + "\r\n";

    public async Task SendAsync(byte[] bytes, int chop = 0)
    {
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        if (chop <= 0)
        {
            await _tls.WriteAsync(bytes, cts.Token);
        }
        else
        {
            for (var offset = 0; offset < bytes.Length; offset += chop)
            {
                await _tls.WriteAsync(bytes.AsMemory(offset, Math.Min(chop, bytes.Length - offset)), cts.Token);
            }
        }

        await _tls.FlushAsync(cts.Token);
    }

    public Task SendAsync(string text) => SendAsync(Encoding.ASCII.GetBytes(text));

    /// <summary>One masked client frame (RFC 6455 §5.3), payload under 126 bytes.</summary>
    public static byte[] MaskedFrame(int opcode, ReadOnlySpan<byte> payload)
    {
        var frame = new byte[6 + payload.Length];
        frame[0] = (byte)(0x80 | opcode);
        frame[1] = (byte)(0x80 | payload.Length);
        Random.Shared.NextBytes(frame.AsSpan(2, 4));
        for (var i = 0; i < payload.Length; i++)
        {
            frame[6 + i] = (byte)(payload[i] ^ frame[2 + (i % 4)]);
        }

        return frame;
    }

    /// <summary>Reads one response head (status line and headers) and returns it as text.</summary>
    public async Task<string> ReadHeadAsync(TimeSpan wait)
    {
        using var cts = new CancellationTokenSource(wait);
        while (true)
        {
            var text = Encoding.Latin1.GetString([.. _pending]);
            var end = text.IndexOf("\r\n\r\n", StringComparison.Ordinal);
            if (end >= 0)
            {
                _pending.RemoveRange(0, end + 4);
                return text[..end];
            }

            if (!await FillAsync(cts.Token))
            {
                throw new IOException("closed before a response head: " + text);
            }
        }
    }

    /// <summary>The next server frame, or null when the connection ended (FIN or reset) first.</summary>
    public async Task<Frame?> ReadFrameAsync(CancellationToken cancellationToken)
    {
        while (true)
        {
            if (Frame.TryParse(_pending, out var frame, out var length))
            {
                _pending.RemoveRange(0, length);
                return frame;
            }

            if (!await FillAsync(cancellationToken))
            {
                return null;
            }
        }
    }

    /// <summary>True when the server closes the connection (FIN or reset) within <paramref name="wait"/>.</summary>
    public async Task<bool> ServerClosesAsync(TimeSpan wait)
    {
        using var cts = new CancellationTokenSource(wait);
        try
        {
            while (await FillAsync(cts.Token))
            {
            }

            return true;
        }
        catch (OperationCanceledException)
        {
            return false;
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _tls.DisposeAsync();
        _socket.Dispose();
    }

    private async Task<bool> FillAsync(CancellationToken cancellationToken)
    {
        int read;
        try
        {
            read = await _tls.ReadAsync(_scratch, cancellationToken);
        }
        catch (IOException)
        {
            return false; // reset: the server dropped the connection
        }
        catch (AuthenticationException)
        {
            return false;
        }

        _pending.AddRange(_scratch.AsSpan(0, read));
        return read > 0;
    }

    /// <summary>One unmasked server frame (RFC 6455 §5.2), as read by the test.</summary>
    public sealed record Frame(bool Fin, int Opcode, byte[] Payload)
    {
        public int? CloseCode => Opcode == 8 && Payload.Length >= 2 ? (Payload[0] << 8) | Payload[1] : null;

        public static bool TryParse(List<byte> data, out Frame frame, out int length)
        {
            frame = null!;
            length = 0;
            if (data.Count < 2)
            {
                return false;
            }

            var header = 2;
            long payload = data[1] & 0x7F;
            if (payload == 126)
            {
                header = 4;
                if (data.Count < header)
                {
                    return false;
                }

                payload = (data[2] << 8) | data[3];
            }
            else if (payload == 127)
            {
                header = 10;
                if (data.Count < header)
                {
                    return false;
                }

                payload = 0;
                for (var i = 2; i < 10; i++)
                {
                    payload = (payload << 8) | data[i];
                }
            }

            if ((data[1] & 0x80) != 0)
            {
                throw new InvalidDataException("server frames must not be masked (RFC 6455 §5.1)");
            }

            if (data.Count < header + payload)
            {
                return false;
            }

            length = (int)(header + payload);
            frame = new Frame((data[0] & 0x80) != 0, data[0] & 0x0F, data.GetRange(header, (int)payload).ToArray());
            return true;
        }
    }
}
