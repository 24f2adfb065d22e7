using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Text;
using Gatehouse.Wire;

namespace Gatehouse.Tests;

/// <summary>
/// A small proxied answer must leave as one TLS record: every extra record is an extra encryption,
/// an extra send on the gateway and an extra decryption and read on the client (issue 9 counted
/// 3 sends per proxied GET where one client write and one upstream write are the work).
/// The client counts the records it receives beneath its own SslStream.
/// </summary>
public sealed class ResponseRecordTests
{
    [Fact]
    public async Task SmallProxiedAnswerLeavesInOneTlsRecord()
    {
        await using var backend = new AbortProbeBackend();
        await using var gateway = await InProcessGateway.StartAsync(configJson: $$"""
            {
              "listen": [ { "address": "127.0.0.1", "port": 0 } ],
              "tls": { "certificate": "server.crt", "key": "server.key" },
              "trust": { "cas": [ { "name": "user", "certificate": "ca.crt" } ] },
              "routes": [ { "kind": "proxy", "name": "app", "prefix": "/app/", "backend": "http://127.0.0.1:{{backend.Port}}" } ],
              "rules": [ { "principals": [ "ca:user" ], "proxy": [ "app" ] } ]
            }
            """);
        using var certificate = CertificateFactory.IssueClient(gateway.Ca, "alice-laptop");
        using var tcp = new TcpClient(AddressFamily.InterNetwork);
        await tcp.ConnectAsync(IPAddress.Loopback, gateway.Port);
        var records = new TlsRecordCounter(tcp.GetStream());
        await using var tls = new SslStream(records);
        await tls.AuthenticateAsClientAsync(new SslClientAuthenticationOptions
        {
            TargetHost = "localhost",
            ClientCertificates = [certificate],
            RemoteCertificateValidationCallback = (_, _, _, _) => true,
        });

        // The first answers may share their reads with the server's session tickets; count a later one.
        for (var i = 0; i < 3; i++)
        {
            Assert.Equal("ok", await GetBodyAsync(tls, "/app/doc"));
        }

        var before = records.ApplicationRecords;
        Assert.Equal("ok", await GetBodyAsync(tls, "/app/doc"));
        Assert.Equal(1, records.ApplicationRecords - before);
    }

    private static async Task<string> GetBodyAsync(SslStream tls, string path)
    {
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        await tls.WriteAsync(Encoding.ASCII.GetBytes($"GET {path} HTTP/1.1\r\nHost: localhost\r\n\r\n"), cts.Token);
        var received = new List<byte>();
        var buffer = new byte[4096];
        while (true)
        {
            var text = Encoding.ASCII.GetString([.. received]);
            var end = text.IndexOf("\r\n\r\n", StringComparison.Ordinal);
            if (end >= 0)
            {
                var lengthLine = text[..end].Split("\r\n").First(l => l.StartsWith("content-length:", StringComparison.OrdinalIgnoreCase));
                var length = int.Parse(lengthLine["content-length:".Length..].Trim(), System.Globalization.CultureInfo.InvariantCulture);
                if (received.Count >= end + 4 + length)
                {
                    Assert.Equal(end + 4 + length, received.Count); // nothing beyond this answer was sent
                    return text[(end + 4)..];
                }
            }

            var read = await tls.ReadAsync(buffer, cts.Token);
            Assert.NotEqual(0, read);
            received.AddRange(buffer.AsSpan(0, read));
        }
    }

    /// <summary>Passes bytes through and counts the TLS application_data records (type 23) read.</summary>
    private sealed class TlsRecordCounter(Stream inner) : Stream
    {
        private readonly byte[] _header = new byte[5];
        private int _headerFilled;
        private int _bodyLeft;

        public int ApplicationRecords { get; private set; }

        public override bool CanRead => true;

        public override bool CanSeek => false;

        public override bool CanWrite => true;

        public override long Length => throw new NotSupportedException();

        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

        public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
        {
            var read = await inner.ReadAsync(buffer, cancellationToken);
            Count(buffer.Span[..read]);
            return read;
        }

        public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
            ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

        public override int Read(byte[] buffer, int offset, int count)
        {
            var read = inner.Read(buffer, offset, count);
            Count(buffer.AsSpan(offset, read));
            return read;
        }

        public override ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default) => inner.WriteAsync(buffer, cancellationToken);

        public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) => inner.WriteAsync(buffer, offset, count, cancellationToken);

        public override void Write(byte[] buffer, int offset, int count) => inner.Write(buffer, offset, count);

        public override void Flush() => inner.Flush();

        public override Task FlushAsync(CancellationToken cancellationToken) => inner.FlushAsync(cancellationToken);

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        private void Count(ReadOnlySpan<byte> bytes)
        {
            while (!bytes.IsEmpty)
            {
                if (_bodyLeft > 0)
                {
                    var skip = Math.Min(_bodyLeft, bytes.Length);
                    _bodyLeft -= skip;
                    bytes = bytes[skip..];
                    continue;
                }

                _header[_headerFilled++] = bytes[0];
                bytes = bytes[1..];
                if (_headerFilled == _header.Length)
                {
                    _headerFilled = 0;
                    _bodyLeft = (_header[3] << 8) | _header[4];
                    if (_header[0] == 23)
                    {
                        ApplicationRecords++;
                    }
                }
            }
        }
    }
}
