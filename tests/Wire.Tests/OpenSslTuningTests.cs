using System.Buffers.Binary;
using System.Collections.Concurrent;
using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Authentication;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using Gatehouse.Wire;
using Gatehouse.Wire.Tuning;
using Microsoft.Extensions.Logging;
using Microsoft.Win32.SafeHandles;

namespace Gatehouse.Wire.Tests;

/// <summary>
/// OpenSslTuning (issue 9, idle memory): SSL_MODE_RELEASE_BUFFERS and memory BIOs emptied of their
/// handshake-sized buffers on accepted connections, and one shared SSL_CTX that never resumes a session.
/// Set on the real path, harmless to the bytes carried, a returning client still proves its key every
/// time, and a no-op that warns once when the runtime's shape is not the expected one.
/// </summary>
[Collection(PkiCollection.Name)]
public sealed class OpenSslTuningTests(TestPki pki)
{
    [Theory]
    [InlineData(SslProtocols.Tls12)]
    [InlineData(SslProtocols.Tls13)]
    public async Task ConnectionsReleaseOpenSslBuffersWhenIdleAndShareOneContextThatNeverResumes(SslProtocols protocol)
    {
        var seen = new ConcurrentQueue<OpenSslState?>();
        await using Harness h = Harness.Tls(pki, IPAddress.Loopback, handler: async (connection, stopping) =>
        {
            seen.Enqueue(OpenSslAccess.Inspect((SslStream)connection.Stream));
            await connection.Stream.WriteAsync("ok\n"u8.ToArray(), stopping);
        });

        for (int i = 0; i < 2; i++)
        {
            Assert.Equal("ok", await TlsClient.ReadLineAsync(h.Endpoint(), TlsClient.Options(pki.CaClient, h.ServerPin, protocol)));
        }

        Assert.Equal(2, seen.Count);
        if (!OperatingSystem.IsLinux())
        {
            Assert.All(seen, s => Assert.Null(s));
            return;
        }

        Assert.All(seen, s =>
        {
            Assert.NotNull(s);
            Assert.Equal(OpenSslTuning.ReleaseBuffers, s.Value.Mode & OpenSslTuning.ReleaseBuffers);
            Assert.Equal(OpenSslTuning.NoTicket, s.Value.ContextOptions & OpenSslTuning.NoTicket);
            Assert.Equal(OpenSslTuning.NoSessionCache, s.Value.CacheMode);
            // Inspected right after the handshake: the BIOs no longer keep room for its flights (the
            // server's alone carries its certificate, far more than 256 bytes).
            Assert.InRange(s.Value.ReadBioBytes, 0, 256);
            Assert.InRange(s.Value.WriteBioBytes, 0, 256);
        });
        Assert.Single(seen.Select(s => s!.Value.Context).Distinct());
        Assert.DoesNotContain(h.Log.Lines, l => l.Level >= LogLevel.Warning);
    }

    /// <summary>
    /// The reason resumption stays off (a resumed session reports no client certificate): a client that
    /// keeps its session and offers it again (openssl s_client -sess_out, then -sess_in) gets a new
    /// session, and so is judged by its key, every time.
    /// </summary>
    [Theory]
    [InlineData("-tls1_2")]
    [InlineData("-tls1_3")]
    public async Task AReturningClientThatOffersItsSessionGetsANewOneAndIsJudgedByItsKey(string protocol)
    {
        await using Harness h = Harness.Tls(pki, IPAddress.Loopback, ClientCertificateMode.Optional);
        using var dir = new TempDir();
        await File.WriteAllTextAsync(dir.File("client.crt"), pki.CaClient.ExportCertificatePem());
        await File.WriteAllTextAsync(dir.File("client.key"), pki.CaClient.GetECDsaPrivateKey()?.ExportPkcs8PrivateKeyPem() ?? pki.CaClient.GetRSAPrivateKey()!.ExportPkcs8PrivateKeyPem());
        string connect = $"openssl s_client -connect 127.0.0.1:{h.Endpoint().Port} {protocol} -cert client.crt -key client.key -ign_eof";

        string first = Openssl.Shell($"{connect} -sess_out session.pem </dev/null 2>&1 || true", dir.Path);
        // s_client exits 1 when the server closes without close_notify (quiet shutdown); the output says what happened.
        // Without a ticket or a cached session there may be nothing to save; then there is nothing to offer either.
        string offer = File.Exists(dir.File("session.pem")) ? "-sess_in session.pem" : "";
        string second = Openssl.Shell($"{connect} {offer} </dev/null 2>&1 || true", dir.Path);

        string pin = KeyPin.Compute(pki.CaClient);
        Assert.Contains(pin, first, StringComparison.Ordinal);
        Assert.Contains(pin, second, StringComparison.Ordinal);
        Assert.Matches(@"(?m)^New, TLSv1\.[23]", second);
        Assert.All(h.Seen, c => Assert.True(c.Principal.HasKey));
    }

    /// <summary>
    /// With the mode set, OpenSSL frees and re-allocates its buffers between records; exchanges of every
    /// size, one after the other on one connection, must come back byte for byte.
    /// </summary>
    [Theory]
    [InlineData(SslProtocols.Tls12)]
    [InlineData(SslProtocols.Tls13)]
    public async Task ExchangesOfEverySizeStillRoundTripAfterTheBuffersAreReleased(SslProtocols protocol)
    {
        await using Harness h = Harness.Tls(pki, IPAddress.Loopback, handler: EchoFramesAsync);
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        using TcpClient tcp = await TlsClient.ConnectAsync(h.Endpoint(), cts.Token);
        await using var tls = new SslStream(tcp.GetStream());
        await tls.AuthenticateAsClientAsync(TlsClient.Options(pki.CaClient, h.ServerPin, protocol), cts.Token);

        foreach (int size in new[] { 1, 100, 16 * 1024 - 1, 16 * 1024, 16 * 1024 + 1, 200_000, 1 << 20, 7 })
        {
            byte[] sent = new byte[size];
            Random.Shared.NextBytes(sent);
            byte[] header = new byte[4];
            BinaryPrimitives.WriteInt32BigEndian(header, size);
            await tls.WriteAsync(header, cts.Token);
            await tls.WriteAsync(sent, cts.Token);

            byte[] received = new byte[size];
            await tls.ReadExactlyAsync(received, cts.Token);
            Assert.Equal(sent, received);
        }
    }

    [Fact]
    public void AnUnexpectedSecurityContextChangesNothingAndIsAWarningOnce()
    {
        var log = new ListLogger();
        var tuning = new OpenSslTuning(log);
        using var notAnSslHandle = new SafeFileHandle(IntPtr.Zero, ownsHandle: false);

        tuning.Apply((object?)notAnSslHandle);
        tuning.Apply((object?)null);
        tuning.Apply((object?)"a string");

        Assert.False(tuning.CanShareContexts);
        if (!OperatingSystem.IsLinux())
        {
            Assert.Empty(log.Lines); // never tried: the startup line says why (TlsTuningShapeTests)
            return;
        }

        (LogLevel level, string message) = Assert.Single(log.Lines);
        Assert.Equal(LogLevel.Warning, level);
        Assert.Contains(OpenSslTuning.Name + " turned off for this process", message, StringComparison.Ordinal);
        Assert.Contains(nameof(SafeFileHandle), message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AfterAnUnexpectedShapeConnectionsAreServedAsBeforeWithoutTrying()
    {
        var log = new ListLogger();
        var tuning = new OpenSslTuning(log);
        tuning.Apply((object?)new object());
        var modes = new ConcurrentQueue<long?>();
        // The server's own tuning off, so what the stream shows is this tuning's doing alone.
        await using Harness h = Harness.Tls(pki, IPAddress.Loopback, tlsTuning: false, handler: async (connection, stopping) =>
        {
            tuning.Apply((SslStream)connection.Stream);
            modes.Enqueue(OpenSslAccess.Inspect((SslStream)connection.Stream)?.Mode);
            await connection.Stream.WriteAsync("ok\n"u8.ToArray(), stopping);
        });

        Assert.Equal("ok", await TlsClient.ReadLineAsync(h.Endpoint(), pki.CaClient, h.ServerPin));

        long? mode = Assert.Single(modes);
        Assert.Equal(0, (mode ?? 0) & OpenSslTuning.ReleaseBuffers);
        Assert.True(log.Lines.Count <= 1);
    }

    /// <summary>Reads frames (4-byte big-endian length, then the bytes) and writes each back, until the client closes.</summary>
    private static async Task EchoFramesAsync(WireConnection connection, CancellationToken stopping)
    {
        byte[] header = new byte[4];
        while (true)
        {
            try
            {
                await connection.Stream.ReadExactlyAsync(header, stopping);
            }
            catch (EndOfStreamException)
            {
                return;
            }

            byte[] frame = new byte[BinaryPrimitives.ReadInt32BigEndian(header)];
            await connection.Stream.ReadExactlyAsync(frame, stopping);
            await connection.Stream.WriteAsync(frame, stopping);
            await connection.Stream.FlushAsync(stopping);
        }
    }
}
