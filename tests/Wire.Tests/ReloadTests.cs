using System.Diagnostics;
using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Authentication;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using Gatehouse.Wire;
using Microsoft.Extensions.Logging;

namespace Gatehouse.Wire.Tests;

/// <summary>
/// Hot reload over real TLS sockets (issue 7): <see cref="WireServer.UpdateTrust"/> swaps the server
/// identity and the client trust; open connections whose key is no longer trusted are closed within
/// a second, idle ones included, and still-trusted ones are untouched.
/// </summary>
[Collection(PkiCollection.Name)]
public sealed class ReloadTests(TestPki pki)
{
    private static readonly TimeSpan s_revocationDeadline = TimeSpan.FromSeconds(1);

    [Fact]
    public async Task ANewHandshakeAfterAnIdentitySwapSeesTheNewServerKey()
    {
        await using Harness h = Harness.Tls(pki, IPAddress.Loopback, handler: Echo);
        using X509Certificate2 renewed = CertificateFactory.IssueServer(pki.Ca, "gate", ["localhost"], [IPAddress.Loopback]);
        var identity = new ServerIdentity(renewed);
        Assert.NotEqual(pki.Identity.Pin, identity.Pin);

        await using (LiveClient before = await LiveClient.OpenAsync(h.Endpoint(), pki.CaClient))
        {
            Assert.Equal(pki.Identity.Pin, before.ServerPin);
            h.Server.UpdateTrust(identity, pki.Trust());

            // The connection made before the swap keeps working with the old certificate.
            Assert.True(await before.EchoesAsync());
        }

        await using LiveClient after = await LiveClient.OpenAsync(h.Endpoint(), pki.CaClient);
        Assert.Equal(identity.Pin, after.ServerPin);
        Assert.Same(identity, h.Server.Identity);
    }

    [Fact]
    public async Task AnIdleConnectionOfARemovedPinIsClosedWithinOneSecond()
    {
        await using Harness h = Harness.Tls(pki, IPAddress.Loopback, handler: Echo);
        await using LiveClient pinned = await LiveClient.OpenAsync(h.Endpoint(), pki.PinnedSelfSigned);
        await using LiveClient viaCa = await LiveClient.OpenAsync(h.Endpoint(), pki.CaClient);
        Task closed = pinned.WaitClosedAsync();

        var stopwatch = Stopwatch.StartNew();
        int revoked = h.Server.UpdateTrust(null, Trust(pins: false));

        await closed.WaitAsync(TimeSpan.FromSeconds(5));
        Assert.True(stopwatch.Elapsed < s_revocationDeadline, $"closed after {stopwatch.Elapsed}");
        Assert.Equal(1, revoked);
        Assert.True(await viaCa.EchoesAsync());

        string pin = KeyPin.Compute(pki.PinnedSelfSigned);
        (LogLevel level, string message) = Assert.Single(h.Log.Lines, l => l.Message.StartsWith("revoked", StringComparison.Ordinal));
        Assert.Equal(LogLevel.Information, level);
        Assert.Contains(pin, message, StringComparison.Ordinal);
        Assert.EndsWith(": unknown issuer", message, StringComparison.Ordinal);

        // And the key is refused from now on.
        await TlsClient.AssertRefusedAsync(h.Endpoint(), pki.PinnedSelfSigned, h.ServerPin);
    }

    [Fact]
    public async Task AStillTrustedConnectionSurvivesTenReloads()
    {
        await using Harness h = Harness.Tls(pki, IPAddress.Loopback, handler: Echo);
        await using LiveClient pinned = await LiveClient.OpenAsync(h.Endpoint(), pki.PinnedSelfSigned);
        await using LiveClient viaCa = await LiveClient.OpenAsync(h.Endpoint(), pki.CaClient);

        for (int i = 0; i < 10; i++)
        {
            Assert.Equal(0, h.Server.UpdateTrust(null, pki.Trust()));
            Assert.True(await pinned.EchoesAsync());
            Assert.True(await viaCa.EchoesAsync());
        }

        Assert.DoesNotContain(h.Log.Lines, l => l.Message.StartsWith("revoked", StringComparison.Ordinal));
        Assert.Equal(10, h.Log.Lines.Count(l => l.Message.StartsWith("trust updated", StringComparison.Ordinal)));
    }

    [Fact]
    public async Task AStillTrustedPrincipalTheRevocationCheckNamesIsClosedAndTheOthersStay()
    {
        await using Harness h = Harness.Tls(pki, IPAddress.Loopback, handler: Echo);
        await using LiveClient pinned = await LiveClient.OpenAsync(h.Endpoint(), pki.PinnedSelfSigned);
        await using LiveClient viaCa = await LiveClient.OpenAsync(h.Endpoint(), pki.CaClient);
        string pin = KeyPin.Compute(pki.PinnedSelfSigned);
        Task closed = pinned.WaitClosedAsync();

        // Same trust: only the host's verdict (its reloaded rules left this key nothing) closes the connection.
        var stopwatch = Stopwatch.StartNew();
        int revoked = h.Server.UpdateTrust(null, pki.Trust(), principal => principal.Pin == pin ? "no grant left" : null);

        await closed.WaitAsync(TimeSpan.FromSeconds(5));
        Assert.True(stopwatch.Elapsed < s_revocationDeadline, $"closed after {stopwatch.Elapsed}");
        Assert.Equal(1, revoked);
        Assert.True(await viaCa.EchoesAsync());
        Assert.Contains(h.Log.Lines, l => l.Message.StartsWith("revoked", StringComparison.Ordinal) && l.Message.EndsWith(": no grant left", StringComparison.Ordinal));

        // The key is still trusted: it may connect again (the host's rules decide what it may do).
        await using LiveClient again = await LiveClient.OpenAsync(h.Endpoint(), pki.PinnedSelfSigned);
        Assert.True(await again.EchoesAsync());
    }

    [Fact]
    public async Task RemovingTheCaClosesTheClientsItIssued()
    {
        await using Harness h = Harness.Tls(pki, IPAddress.Loopback, handler: Echo);
        await using LiveClient first = await LiveClient.OpenAsync(h.Endpoint(), pki.CaClient);
        await using LiveClient second = await LiveClient.OpenAsync(h.Endpoint(), pki.CaClient);
        await using LiveClient pinned = await LiveClient.OpenAsync(h.Endpoint(), pki.PinnedSelfSigned);
        Task firstClosed = first.WaitClosedAsync();
        Task secondClosed = second.WaitClosedAsync();

        var stopwatch = Stopwatch.StartNew();
        Assert.Equal(2, h.Server.UpdateTrust(null, Trust(cas: false)));

        await Task.WhenAll(firstClosed, secondClosed).WaitAsync(TimeSpan.FromSeconds(5));
        Assert.True(stopwatch.Elapsed < s_revocationDeadline, $"closed after {stopwatch.Elapsed}");
        Assert.True(await pinned.EchoesAsync());
        await TlsClient.AssertRefusedAsync(h.Endpoint(), pki.CaClient, h.ServerPin);
    }

    [Fact]
    public async Task ADeniedKeyIsClosedEvenThoughItsCaIsStillTrusted()
    {
        await using Harness h = Harness.Tls(pki, IPAddress.Loopback, handler: Echo);
        using X509Certificate2 other = CertificateFactory.IssueClient(pki.Ca, "tablet");
        await using LiveClient lost = await LiveClient.OpenAsync(h.Endpoint(), pki.CaClient);
        await using LiveClient kept = await LiveClient.OpenAsync(h.Endpoint(), other);
        Task closed = lost.WaitClosedAsync();

        var stopwatch = Stopwatch.StartNew();
        h.Server.UpdateTrust(null, Trust(deny: [KeyPin.Compute(pki.CaClient)]));

        await closed.WaitAsync(TimeSpan.FromSeconds(5));
        Assert.True(stopwatch.Elapsed < s_revocationDeadline, $"closed after {stopwatch.Elapsed}");
        Assert.True(await kept.EchoesAsync());
        Assert.Contains(h.Log.Lines, l => l.Message.StartsWith("revoked", StringComparison.Ordinal) && l.Message.EndsWith(": denied key", StringComparison.Ordinal));
        await TlsClient.AssertRefusedAsync(h.Endpoint(), pki.CaClient, h.ServerPin);
    }

    [Fact]
    public async Task AKeyNowTrustedByAnotherRouteIsClosedSoItReconnectsAsItsNewPrincipal()
    {
        // A CA-issued key that is also pinned: its principal is "pinned:laptop"; without the pin it
        // would be "ca:user", with other rules, so the connection judged as the old one must go.
        await using Harness h = Harness.Tls(pki, IPAddress.Loopback, handler: Echo);
        h.Server.UpdateTrust(null, Trust(extraPins: [new PinnedKey("laptop", KeyPin.Compute(pki.CaClient))]));
        await using LiveClient client = await LiveClient.OpenAsync(h.Endpoint(), pki.CaClient);
        Task closed = client.WaitClosedAsync();

        Assert.Equal(1, h.Server.UpdateTrust(null, pki.Trust()));

        await closed.WaitAsync(TimeSpan.FromSeconds(5));
        Assert.Contains(h.Log.Lines, l => l.Message.Contains("now trusted as ca:user instead of pinned:laptop", StringComparison.Ordinal));
        await using LiveClient again = await LiveClient.OpenAsync(h.Endpoint(), pki.CaClient);
        Assert.True(await again.EchoesAsync());
    }

    [Fact]
    public async Task ALongRequestInFlightIsNotDisturbedByAReloadThatKeepsItsKey()
    {
        // The handler is mid-write when the reload lands; it must finish undisturbed.
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await using Harness h = Harness.Tls(pki, IPAddress.Loopback, handler: async (c, stopping) =>
        {
            await c.Stream.WriteAsync("hello\n"u8.ToArray(), stopping);
            await release.Task.WaitAsync(stopping);
            await c.Stream.WriteAsync("done\n"u8.ToArray(), stopping);
        });
        await using LiveClient client = await LiveClient.OpenAsync(h.Endpoint(), pki.CaClient);

        h.Server.UpdateTrust(null, pki.Trust());
        release.SetResult();

        Assert.Equal("done", await client.ReadLineAsync());
    }

    private ClientTrust Trust(bool cas = true, bool pins = true, IEnumerable<string>? deny = null, IEnumerable<PinnedKey>? extraPins = null)
    {
        List<PinnedKey> pinned = pins ? [new PinnedKey("phone", KeyPin.Compute(pki.PinnedSelfSigned))] : [];
        pinned.AddRange(extraPins ?? []);
        return new ClientTrust(
            cas ? [new TrustedCa("user", pki.Ca)] : [],
            pinned,
            [KeyPin.Compute(pki.Denied), .. deny ?? []]);
    }

    /// <summary>Says hello, then echoes what it reads until the client leaves: an idle keep-alive connection in between.</summary>
    private static async Task Echo(WireConnection connection, CancellationToken stopping)
    {
        await connection.Stream.WriteAsync("hello\n"u8.ToArray(), stopping);
        byte[] buffer = new byte[256];
        while (true)
        {
            int read = await connection.Stream.ReadAsync(buffer, stopping);
            if (read == 0)
            {
                return;
            }

            await connection.Stream.WriteAsync(buffer.AsMemory(0, read), stopping);
        }
    }

    /// <summary>A client holding a TLS connection open, as a keep-alive HTTP client or a WebSocket would.</summary>
    private sealed class LiveClient : IAsyncDisposable
    {
        private readonly TcpClient _tcp;
        private readonly SslStream _tls;
        private readonly StreamReader _reader;

        private LiveClient(TcpClient tcp, SslStream tls, string serverPin)
        {
            _tcp = tcp;
            _tls = tls;
            _reader = new StreamReader(tls, Encoding.ASCII);
            ServerPin = serverPin;
        }

        public string ServerPin { get; }

        public static async Task<LiveClient> OpenAsync(IPEndPoint endpoint, X509Certificate2 certificate)
        {
            using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(10));
            TcpClient tcp = await TlsClient.ConnectAsync(endpoint, cts.Token);
            var tls = new SslStream(tcp.GetStream());
            string? serverPin = null;
            await tls.AuthenticateAsClientAsync(
                new SslClientAuthenticationOptions
                {
                    TargetHost = "localhost",
                    ClientCertificates = [certificate],
                    CertificateRevocationCheckMode = X509RevocationMode.NoCheck,
                    // The test checks which key the server showed; it accepts any to be able to tell.
                    RemoteCertificateValidationCallback = (_, cert, _, _) =>
                    {
                        serverPin = cert is X509Certificate2 c ? KeyPin.Compute(c) : null;
                        return serverPin is not null;
                    },
                },
                cts.Token);
            var client = new LiveClient(tcp, tls, serverPin!);
            Assert.Equal("hello", await client.ReadLineAsync());
            return client;
        }

        public async Task<string?> ReadLineAsync()
        {
            using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(10));
            return await _reader.ReadLineAsync(cts.Token);
        }

        /// <summary>True when a line sent comes back: the connection is alive and still served.</summary>
        public async Task<bool> EchoesAsync()
        {
            try
            {
                await _tls.WriteAsync("ping\n"u8.ToArray());
                return await ReadLineAsync() == "ping";
            }
            catch (IOException)
            {
                return false;
            }
        }

        /// <summary>Completes when the server ends the connection (end of stream or reset), with how long that took.</summary>
        public async Task WaitClosedAsync()
        {
            var stopwatch = Stopwatch.StartNew();
            try
            {
                string? line = await _reader.ReadLineAsync(CancellationToken.None);
                Assert.Null(line);
            }
            catch (Exception ex) when (ex is IOException or AuthenticationException)
            {
                // A reset is a close too.
            }
        }

        public async ValueTask DisposeAsync()
        {
            _reader.Dispose();
            await _tls.DisposeAsync();
            _tcp.Dispose();
        }
    }
}
