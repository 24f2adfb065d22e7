using System.Collections.Concurrent;
using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Text;
using Gatehouse.Wire.Tuning;
using Microsoft.Extensions.Logging;

namespace Gatehouse.Wire.Tests;

/// <summary>
/// The TLS tuning (src/Wire/Tuning) reaches into SslStream's private fields and libssl, and at run
/// time a runtime of another shape only turns it off, quietly saving nothing. Here a new .NET (or
/// OpenSSL) that moved a field fails loudly instead, naming what is missing, and every tuning is
/// shown to take effect on a real connection, and to be absent when switched off.
/// </summary>
[Collection(PkiCollection.Name)]
public sealed class TlsTuningShapeTests(TestPki pki)
{
    private const int LargeAnswer = 200_000;

    [Fact]
    public void ThisRuntimeHasEveryFieldAndSymbolTheTuningReachesFor()
    {
        Assert.True(ChainPolicyRelease.Unsupported is null, Changed(ChainPolicyRelease.Name, ChainPolicyRelease.Unsupported));
        if (OperatingSystem.IsLinux())
        {
            Assert.True(OpenSslAccess.Unsupported is null, Changed($"{OpenSslTuning.Name} and {IdleBioTrim.Name}", OpenSslAccess.Unsupported));
        }
    }

    [Fact]
    public async Task TheStartupLineSaysWhatIsActive()
    {
        await using (Harness on = Harness.Tls(pki, IPAddress.Loopback))
        {
            string line = Assert.Single(on.Log.Lines, l => l.Message.StartsWith("TLS runtime tuning", StringComparison.Ordinal)).Message;
            Assert.Contains(ChainPolicyRelease.Name, line, StringComparison.Ordinal);
            if (OperatingSystem.IsLinux())
            {
                Assert.Equal($"TLS runtime tuning (runtime.tlsTuning) on: {OpenSslTuning.Name}, {IdleBioTrim.Name}, {ChainPolicyRelease.Name}", line);
            }
        }

        await using Harness off = Harness.Tls(pki, IPAddress.Loopback, tlsTuning: false);
        Assert.Equal(
            "TLS runtime tuning (runtime.tlsTuning) off: SslStream and OpenSSL as .NET leaves them",
            Assert.Single(off.Log.Lines, l => l.Message.StartsWith("TLS runtime tuning", StringComparison.Ordinal)).Message);
    }

    [Fact]
    public async Task EveryTuningTakesEffectOnARealConnection()
    {
        if (!OperatingSystem.IsLinux())
        {
            return; // only the chain policy release applies (TlsAcceptorTests)
        }

        (Seen first, Seen second, Harness h) = await TwoConnectionsAsync(tlsTuning: true);
        await using (h)
        {
            foreach (Seen seen in new[] { first, second })
            {
                Assert.True(seen.ChainPolicyHeld is false, Changed(ChainPolicyRelease.Name, $"the stream still holds its {ChainPolicyRelease.OptionsField}.{ChainPolicyRelease.PolicyProperty}"));
                Assert.True(seen.AfterHandshake is not null, Changed(OpenSslTuning.Name, $"SslStream.{OpenSslAccess.SecurityContextField} gives no OpenSSL handle"));
                OpenSslState tuned = seen.AfterHandshake.Value;
                Assert.True((tuned.Mode & OpenSslTuning.ReleaseBuffers) != 0, Changed(OpenSslTuning.Name, $"SSL_MODE_RELEASE_BUFFERS not set (mode {tuned.Mode:x})"));
                Assert.True((tuned.ContextOptions & OpenSslTuning.NoTicket) != 0, Changed(OpenSslTuning.Name, "SSL_OP_NO_TICKET not set on the SSL_CTX"));
                Assert.True(tuned.CacheMode == OpenSslTuning.NoSessionCache, Changed(OpenSslTuning.Name, $"session cache mode {tuned.CacheMode:x}"));

                // The large answer left the write BIO big; the trim gave it back.
                Assert.InRange(seen.BeforeTrim!.Value.WriteBioBytes, IdleBioTrim.IdleBioBytes + 1, long.MaxValue);
                Assert.True(seen.AfterTrim!.Value.WriteBioBytes <= IdleBioTrim.IdleBioBytes, Changed(IdleBioTrim.Name, $"the write BIO still holds {seen.AfterTrim.Value.WriteBioBytes} bytes"));
            }

            Assert.True(first.AfterHandshake!.Value.Context == second.AfterHandshake!.Value.Context, Changed(OpenSslTuning.Name, "two connections got two SSL_CTXs"));
            Assert.DoesNotContain(h.Log.Lines, l => l.Level >= LogLevel.Warning);
        }
    }

    [Fact]
    public async Task SwitchedOffNothingReachesIntoTheStream()
    {
        (Seen first, Seen second, Harness h) = await TwoConnectionsAsync(tlsTuning: false);
        await using (h)
        {
            Assert.True(first.ChainPolicyHeld);
            if (!OperatingSystem.IsLinux())
            {
                return;
            }

            Assert.Equal(0, first.AfterHandshake!.Value.Mode & OpenSslTuning.ReleaseBuffers);
            Assert.InRange(first.AfterTrim!.Value.WriteBioBytes, IdleBioTrim.IdleBioBytes + 1, long.MaxValue);
            // AllowTlsResume off where client keys are asked for: .NET builds an SSL_CTX per connection.
            Assert.NotEqual(first.AfterHandshake.Value.Context, second.AfterHandshake!.Value.Context);
        }
    }

    [Fact]
    public async Task TrimmingAClosedConnectionIsNoFailure()
    {
        var trimmed = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await using Harness h = Harness.Tls(pki, IPAddress.Loopback, handler: async (connection, _) =>
        {
            await connection.DisposeAsync();
            connection.TrimIdleBuffers();
            trimmed.TrySetResult();
        });

        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        using TcpClient tcp = await TlsClient.ConnectAsync(h.Endpoint(), cts.Token);
        await using var tls = new SslStream(tcp.GetStream());
        try
        {
            await tls.AuthenticateAsClientAsync(TlsClient.Options(pki.CaClient, h.ServerPin), cts.Token);
        }
        catch (IOException)
        {
            // The server may close before the client has read its last handshake flight.
        }

        await trimmed.Task.WaitAsync(cts.Token);

        Assert.DoesNotContain(h.Log.Lines, l => l.Level >= LogLevel.Warning);
    }

    private static string Changed(string tuning, string? what) =>
        $"{tuning}: {what} on .NET {Environment.Version}. The runtime changed the shape src/Wire/Tuning relies on: "
        + "update it, or set runtime.tlsTuning to false until it is.";

    /// <summary>Two connections, each answered with a large body; what each stream showed after its handshake and around the idle trim.</summary>
    private async Task<(Seen First, Seen Second, Harness Server)> TwoConnectionsAsync(bool tlsTuning)
    {
        var seen = new ConcurrentQueue<Seen>();
        // Both server streams stay alive until both were inspected: a freed SSL_CTX's address may be
        // reused by the next connection's, which would make two contexts look like one.
        var bothSeen = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        Harness h = Harness.Tls(pki, IPAddress.Loopback, tlsTuning: tlsTuning, handler: async (connection, stopping) =>
        {
            var tls = (SslStream)connection.Stream;
            OpenSslState? afterHandshake = OpenSslAccess.Inspect(tls);
            bool held = ChainPolicyRelease.Held(tls) is not null;
            await tls.WriteAsync(new byte[LargeAnswer], stopping);
            await tls.FlushAsync(stopping);
            OpenSslState? beforeTrim = OpenSslAccess.Inspect(tls);
            connection.TrimIdleBuffers();
            seen.Enqueue(new Seen(held, afterHandshake, beforeTrim, OpenSslAccess.Inspect(tls)));
            await tls.WriteAsync("ok\n"u8.ToArray(), stopping);
            if (seen.Count == 2)
            {
                bothSeen.TrySetResult();
            }

            await bothSeen.Task.WaitAsync(stopping);
        });

        try
        {
            for (int i = 0; i < 2; i++)
            {
                using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(30));
                using TcpClient tcp = await TlsClient.ConnectAsync(h.Endpoint(), cts.Token);
                await using var tls = new SslStream(tcp.GetStream());
                await tls.AuthenticateAsClientAsync(TlsClient.Options(pki.CaClient, h.ServerPin), cts.Token);
                await tls.ReadExactlyAsync(new byte[LargeAnswer], cts.Token);
                byte[] ok = new byte[3];
                await tls.ReadExactlyAsync(ok, cts.Token);
                Assert.Equal("ok\n", Encoding.ASCII.GetString(ok));
            }
        }
        catch
        {
            await h.DisposeAsync();
            throw;
        }

        Assert.Equal(2, seen.Count);
        Seen[] both = [.. seen];
        return (both[0], both[1], h);
    }

    private sealed record Seen(bool ChainPolicyHeld, OpenSslState? AfterHandshake, OpenSslState? BeforeTrim, OpenSslState? AfterTrim);
}
