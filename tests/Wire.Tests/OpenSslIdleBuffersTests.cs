using System.Buffers.Binary;
using System.Collections.Concurrent;
using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Authentication;
using System.Text;
using Gatehouse.Wire;
using Microsoft.Extensions.Logging;
using Microsoft.Win32.SafeHandles;

namespace Gatehouse.Wire.Tests;

/// <summary>
/// SSL_MODE_RELEASE_BUFFERS on accepted connections (issue 9, idle memory): set on the real path,
/// harmless to the bytes carried, and a silent, logged-once no-op when the runtime's shape is not the expected one.
/// </summary>
[Collection(PkiCollection.Name)]
public sealed class OpenSslIdleBuffersTests(TestPki pki)
{
    [Theory]
    [InlineData(SslProtocols.Tls12)]
    [InlineData(SslProtocols.Tls13)]
    public async Task AnAdmittedConnectionHasOpenSslReleaseItsBuffersWhenIdle(SslProtocols protocol)
    {
        var modes = new ConcurrentQueue<long?>();
        await using Harness h = Harness.Tls(pki, IPAddress.Loopback, handler: async (connection, stopping) =>
        {
            modes.Enqueue(OpenSslIdleBuffers.CurrentMode((SslStream)connection.Stream));
            await connection.Stream.WriteAsync("ok\n"u8.ToArray(), stopping);
        });

        Assert.Equal("ok", await TlsClient.ReadLineAsync(h.Endpoint(), TlsClient.Options(pki.CaClient, h.ServerPin, protocol)));

        long? mode = Assert.Single(modes);
        if (OperatingSystem.IsLinux())
        {
            Assert.NotNull(mode);
            Assert.Equal(OpenSslIdleBuffers.ReleaseBuffers, mode.Value & OpenSslIdleBuffers.ReleaseBuffers);
            Assert.DoesNotContain(h.Log.Lines, l => l.Message.Contains("SSL_MODE_RELEASE_BUFFERS", StringComparison.Ordinal));
        }
        else
        {
            Assert.Null(mode);
        }
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
    public void AnUnexpectedSecurityContextChangesNothingAndIsLoggedOnceAtDebug()
    {
        var log = new ListLogger();
        var idleBuffers = new OpenSslIdleBuffers(log);
        using var notAnSslHandle = new SafeFileHandle(IntPtr.Zero, ownsHandle: false);

        Assert.False(idleBuffers.TryEnable((object?)notAnSslHandle));
        Assert.False(idleBuffers.TryEnable((object?)null));
        Assert.False(idleBuffers.TryEnable((object?)"a string"));

        (LogLevel level, string message) = Assert.Single(log.Lines);
        Assert.Equal(LogLevel.Debug, level);
        Assert.Contains("SSL_MODE_RELEASE_BUFFERS not set", message, StringComparison.Ordinal);
        Assert.Contains(OperatingSystem.IsLinux() ? nameof(SafeFileHandle) : "not Linux", message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AfterAnUnexpectedShapeConnectionsAreServedAsBeforeWithoutTrying()
    {
        var log = new ListLogger();
        var idleBuffers = new OpenSslIdleBuffers(log);
        Assert.False(idleBuffers.TryEnable((object?)new object()));
        var served = new ConcurrentQueue<bool>();
        await using Harness h = Harness.Tls(pki, IPAddress.Loopback, handler: async (connection, stopping) =>
        {
            served.Enqueue(idleBuffers.TryEnable((SslStream)connection.Stream));
            await connection.Stream.WriteAsync("ok\n"u8.ToArray(), stopping);
        });

        Assert.Equal("ok", await TlsClient.ReadLineAsync(h.Endpoint(), pki.CaClient, h.ServerPin));

        Assert.False(Assert.Single(served));
        Assert.Single(log.Lines);
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
