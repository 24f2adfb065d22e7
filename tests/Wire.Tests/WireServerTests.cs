using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Security.Authentication;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using Gatehouse.Wire;
using Microsoft.Extensions.Logging;

namespace Gatehouse.Wire.Tests;

[Collection(PkiCollection.Name)]
public sealed class WireServerTests(TestPki pki)
{
    [Fact]
    public async Task LetsInAClientIssuedByTheUserCa()
    {
        await using Harness h = Harness.Tls(pki, IPAddress.Loopback);

        string? line = await TlsClient.ReadLineAsync(h.Endpoint(), pki.CaClient, h.ServerPin);

        Assert.Equal(KeyPin.Compute(pki.CaClient), line);
        WireConnection seen = Assert.Single(h.Seen);
        Assert.Equal(TrustSource.CertificateAuthority, seen.Principal.Source);
        Assert.Equal("user", seen.Principal.TrustName);
        Assert.True(seen.IsTls);
        Assert.Equal("http/1.1", seen.NegotiatedProtocol);
        Assert.Equal(IPAddress.Loopback, seen.RemoteEndPoint.Address);
        Assert.Equal(h.Endpoint(), seen.LocalEndPoint);
    }

    [Fact]
    public async Task LetsInAPinnedSelfSignedKey()
    {
        await using Harness h = Harness.Tls(pki, IPAddress.Loopback);

        Assert.Equal(KeyPin.Compute(pki.PinnedSelfSigned), await TlsClient.ReadLineAsync(h.Endpoint(), pki.PinnedSelfSigned, h.ServerPin));
        Assert.Equal(TrustSource.PinnedKey, Assert.Single(h.Seen).Principal.Source);
    }

    [Theory]
    [InlineData("unpinned", "unknown issuer")]
    [InlineData("stranger", "unknown issuer")]
    [InlineData("expired", "expired")]
    [InlineData("future", "not yet valid")]
    [InlineData("denied", "denied key")]
    [InlineData("none", "no client certificate")]
    public async Task RefusesAnUntrustedClientAndLogsOneLine(string which, string reason)
    {
        X509Certificate2? cert = which switch
        {
            "unpinned" => pki.UnpinnedSelfSigned,
            "stranger" => pki.StrangerClient,
            "expired" => pki.Expired,
            "future" => pki.NotYetValid,
            "denied" => pki.Denied,
            _ => null,
        };
        await using Harness h = Harness.Tls(pki, IPAddress.Loopback);

        await TlsClient.AssertRefusedAsync(h.Endpoint(), cert, h.ServerPin);
        await h.Server.StopAsync(TimeSpan.FromSeconds(2));

        Assert.Empty(h.Seen);
        (LogLevel level, string message) = Assert.Single(h.Log.Lines, l => l.Message.StartsWith("refused", StringComparison.Ordinal));
        Assert.Equal(LogLevel.Information, level);
        Assert.Contains("127.0.0.1", message, StringComparison.Ordinal);
        Assert.EndsWith(": " + reason, message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(SslProtocols.Tls12)]
    [InlineData(SslProtocols.Tls13)]
    public async Task RefusalEndsTheConnectionBeforeTheHandler(SslProtocols protocol)
    {
        await using Harness h = Harness.Tls(pki, IPAddress.Loopback);
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        using TcpClient tcp = await TlsClient.ConnectAsync(h.Endpoint(), cts.Token);
        await using var tls = new System.Net.Security.SslStream(tcp.GetStream());

        string answer = "";
        Exception? error = await Record.ExceptionAsync(async () =>
        {
            await tls.AuthenticateAsClientAsync(TlsClient.Options(pki.UnpinnedSelfSigned, h.ServerPin, protocol), cts.Token);
            using var reader = new StreamReader(tls, System.Text.Encoding.ASCII);
            answer = await reader.ReadToEndAsync(cts.Token);
        });

        Assert.True(error is null or AuthenticationException or IOException, error?.ToString());
        // TLS 1.2 ends in the handshake (an unknown_ca alert); TLS 1.3 gets the refusal in words, then the end.
        if (protocol == SslProtocols.Tls12)
        {
            Assert.IsType<AuthenticationException>(error);
        }
        else
        {
            Assert.StartsWith("HTTP/1.1 403 Forbidden\r\n", answer, StringComparison.Ordinal);
            Assert.Contains("Refused (TLS alert unknown_ca): ", answer, StringComparison.Ordinal);
        }

        Assert.Empty(h.Seen);
    }

    [Fact]
    public async Task OptionalModeLetsInAnonymousWithoutACertificate()
    {
        await using Harness h = Harness.Tls(pki, IPAddress.Loopback, ClientCertificateMode.Optional);

        Assert.Equal("", await TlsClient.ReadLineAsync(h.Endpoint(), null, h.ServerPin));
        Assert.Same(Principal.Anonymous, Assert.Single(h.Seen).Principal);
    }

    [Fact]
    public async Task OptionalModeStillJudgesACertificateThatIsPresented()
    {
        await using Harness h = Harness.Tls(pki, IPAddress.Loopback, ClientCertificateMode.Optional);

        Assert.Equal(KeyPin.Compute(pki.CaClient), await TlsClient.ReadLineAsync(h.Endpoint(), pki.CaClient, h.ServerPin));
        await TlsClient.AssertRefusedAsync(h.Endpoint(), pki.StrangerClient, h.ServerPin);
    }

    [Fact]
    public async Task NoneModeDoesNotAskForACertificate()
    {
        await using Harness h = Harness.Tls(pki, IPAddress.Loopback, ClientCertificateMode.None);

        Assert.Equal("", await TlsClient.ReadLineAsync(h.Endpoint(), pki.CaClient, h.ServerPin));
        Assert.Same(Principal.Anonymous, Assert.Single(h.Seen).Principal);
    }

    [Fact]
    public async Task ServesIPv6Loopback()
    {
        if (!Socket.OSSupportsIPv6)
        {
            return; // IPv6 disabled on this machine
        }

        await using Harness h = Harness.Tls(pki, IPAddress.IPv6Loopback);

        Assert.Equal(KeyPin.Compute(pki.CaClient), await TlsClient.ReadLineAsync(h.Endpoint(), pki.CaClient, h.ServerPin));
        Assert.Equal(IPAddress.IPv6Loopback, Assert.Single(h.Seen).RemoteEndPoint.Address);
    }

    [Fact]
    public async Task DualStackListenerAcceptsIPv4Clients()
    {
        if (!Socket.OSSupportsIPv6)
        {
            return; // IPv6 disabled on this machine
        }

        await using Harness h = Harness.Tls(pki, IPAddress.IPv6Any);
        int port = h.Endpoint().Port;

        Assert.Equal(KeyPin.Compute(pki.CaClient), await TlsClient.ReadLineAsync(new IPEndPoint(IPAddress.Loopback, port), pki.CaClient, h.ServerPin));
        Assert.Equal(KeyPin.Compute(pki.CaClient), await TlsClient.ReadLineAsync(new IPEndPoint(IPAddress.IPv6Loopback, port), pki.CaClient, h.ServerPin));
        // IPv4 clients are reported as IPv4, not as ::ffff:127.0.0.1.
        Assert.Equal(IPAddress.Loopback, h.Seen.First().RemoteEndPoint.Address);
    }

    [Fact]
    public async Task ConsecutiveTls13ConnectionsBothCarryThePrincipal()
    {
        await using Harness h = Harness.Tls(pki, IPAddress.Loopback);
        var options = TlsClient.Options(pki.CaClient, h.ServerPin, SslProtocols.Tls13);
        string pin = KeyPin.Compute(pki.CaClient);

        Assert.Equal(pin, await TlsClient.ReadLineAsync(h.Endpoint(), options));
        Assert.Equal(pin, await TlsClient.ReadLineAsync(h.Endpoint(), options));
        Assert.Equal(pin, await TlsClient.ReadLineAsync(h.Endpoint(), options));
        Assert.All(h.Seen, c => Assert.Equal(TrustSource.CertificateAuthority, c.Principal.Source));
    }

    [Fact]
    public async Task SilentClientIsClosedAfterTheHandshakeTimeout()
    {
        await using Harness h = Harness.Tls(pki, IPAddress.Loopback, limits: new WireLimits { HandshakeTimeout = TimeSpan.FromMilliseconds(500) });
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(5));
        using TcpClient tcp = await TlsClient.ConnectAsync(h.Endpoint(), cts.Token);
        var clock = Stopwatch.StartNew();

        int read;
        try
        {
            read = await tcp.GetStream().ReadAsync(new byte[16], cts.Token);
        }
        catch (IOException)
        {
            read = 0;
        }

        Assert.Equal(0, read);
        Assert.InRange(clock.Elapsed, TimeSpan.FromMilliseconds(300), TimeSpan.FromSeconds(4));
    }

    [Fact]
    public async Task ClosesConnectionsOverMaxConnectionsAtAccept()
    {
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await using Harness h = Harness.Tls(pki, IPAddress.Loopback, limits: new WireLimits { MaxConnections = 1 }, handler: async (c, stopping) =>
        {
            await c.Stream.WriteAsync("held\n"u8.ToArray(), stopping);
            await release.Task.WaitAsync(stopping);
        });
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(10));

        // The first connection is admitted and held open by the handler.
        using TcpClient first = await TlsClient.ConnectAsync(h.Endpoint(), cts.Token);
        await using var firstTls = new System.Net.Security.SslStream(first.GetStream());
        await firstTls.AuthenticateAsClientAsync(TlsClient.Options(pki.CaClient, h.ServerPin), cts.Token);
        using var reader = new StreamReader(firstTls, Encoding.ASCII);
        Assert.Equal("held", await reader.ReadLineAsync(cts.Token));
        Assert.Equal(1, h.Server.OpenConnections);

        // The second is closed at once, before any handshake.
        await TlsClient.AssertRefusedAsync(h.Endpoint(), pki.CaClient, h.ServerPin);
        Assert.Contains(h.Log.Lines, l => l.Message.Contains("maxConnections", StringComparison.Ordinal));

        // Once the first ends, there is room again.
        release.SetResult();
        Assert.Null(await reader.ReadLineAsync(cts.Token));
        await WaitUntilAsync(() => h.Server.OpenConnections == 0);
        Assert.Equal("held", await TlsClient.ReadLineAsync(h.Endpoint(), pki.CaClient, h.ServerPin));
    }

    [Fact]
    public async Task WhenEveryHandshakeSlotIsTakenTheOldestPendingOneMakesRoom()
    {
        await using Harness h = Harness.Tls(pki, IPAddress.Loopback, limits: new WireLimits { MaxPendingHandshakes = 1 });
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(10));

        // A silent client holds the only handshake slot...
        using TcpClient silent = await TlsClient.ConnectAsync(h.Endpoint(), cts.Token);
        await WaitUntilAsync(() => h.Server.PendingHandshakes == 1);

        // ...a client that completes still gets in, and the silent one is closed for it.
        Assert.Equal(KeyPin.Compute(pki.CaClient), await TlsClient.ReadLineAsync(h.Endpoint(), pki.CaClient, h.ServerPin));
        try
        {
            Assert.Equal(0, await silent.GetStream().ReadAsync(new byte[1], cts.Token));
        }
        catch (IOException)
        {
            // Closed with a reset: closed all the same.
        }

        Assert.Contains(h.Log.Lines, l => l.Message.Contains("maxPendingHandshakes", StringComparison.Ordinal));
        await WaitUntilAsync(() => h.Server.PendingHandshakes == 0);
    }

    [Fact]
    public async Task HandshakesOverTheCapOfOneAddressAreClosedAtAccept()
    {
        await using Harness h = Harness.Tls(pki, IPAddress.Loopback, limits: new WireLimits { MaxPendingHandshakesPerAddress = 1 });
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(10));

        using TcpClient silent = await TlsClient.ConnectAsync(h.Endpoint(), cts.Token);
        await WaitUntilAsync(() => h.Server.PendingHandshakes == 1);

        // The same address (127.0.0.1) is refused while its one handshake is pending...
        await TlsClient.AssertRefusedAsync(h.Endpoint(), pki.CaClient, h.ServerPin);
        Assert.Contains(h.Log.Lines, l => l.Message.Contains("maxPendingHandshakesPerAddress", StringComparison.Ordinal));

        // ...and gets in again once it is gone.
        silent.Dispose();
        await WaitUntilAsync(() => h.Server.PendingHandshakes == 0);
        Assert.Equal(KeyPin.Compute(pki.CaClient), await TlsClient.ReadLineAsync(h.Endpoint(), pki.CaClient, h.ServerPin));
    }

    [Fact]
    public async Task PlainLoopbackListenerMarkedLocalGivesTheLocalPrincipal()
    {
        await using Harness h = new(pki,
        [
            new ListenEndpoint { Address = IPAddress.Loopback, Port = 0, Tls = false, Local = true },
            new ListenEndpoint { Address = IPAddress.Loopback, Port = 0, Tls = false },
        ]);
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(10));

        foreach (IPEndPoint endpoint in h.Server.BoundEndpoints)
        {
            using TcpClient tcp = await TlsClient.ConnectAsync(endpoint, cts.Token);
            using var reader = new StreamReader(tcp.GetStream(), Encoding.ASCII);
            Assert.Equal("", await reader.ReadLineAsync(cts.Token));
        }

        WireConnection[] seen = [.. h.Seen];
        Assert.Equal(2, seen.Length);
        Assert.Contains(seen, c => ReferenceEquals(c.Principal, Principal.Local));
        Assert.Contains(seen, c => ReferenceEquals(c.Principal, Principal.Anonymous));
        Assert.All(seen, c => Assert.False(c.IsTls));
        Assert.All(seen, c => Assert.Null(c.NegotiatedProtocol));
    }

    [Fact]
    public void RefusesAPlainListenerOffLoopback()
    {
        InvalidOperationException error = Assert.Throws<InvalidOperationException>(() => new WireServer(
            [new ListenEndpoint { Address = IPAddress.Any, Port = 8080, Tls = false }],
            null, pki.Trust(), new WireLimits(), (_, _) => Task.CompletedTask));

        Assert.Equal("plain-HTTP listener 0.0.0.0:8080 must bind a loopback address", error.Message);
    }

    [Fact]
    public async Task BindFailureNamesTheEndpoint()
    {
        await using Harness h = Harness.Tls(pki, IPAddress.Loopback);
        int port = h.Endpoint().Port;
        await using var second = new WireServer(
            [new ListenEndpoint { Address = IPAddress.Loopback, Port = port }],
            pki.Identity, pki.Trust(), new WireLimits(), (_, _) => Task.CompletedTask);

        InvalidOperationException error = Assert.Throws<InvalidOperationException>(second.Start);

        Assert.Contains($"127.0.0.1:{port}", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AHandlerFaultClosesOnlyThatConnection()
    {
        int calls = 0;
        await using Harness h = Harness.Tls(pki, IPAddress.Loopback, handler: async (c, stopping) =>
        {
            if (Interlocked.Increment(ref calls) == 1)
            {
                throw new InvalidOperationException("boom");
            }

            await c.Stream.WriteAsync("ok\n"u8.ToArray(), stopping);
        });

        Assert.Null(await TlsClient.ReadLineAsync(h.Endpoint(), pki.CaClient, h.ServerPin));
        Assert.Equal("ok", await TlsClient.ReadLineAsync(h.Endpoint(), pki.CaClient, h.ServerPin));
        Assert.Contains(h.Log.Lines, l => l.Level == LogLevel.Warning);
    }

    [Fact]
    public async Task StopSignalsHandlersThenAbortsThoseThatLinger()
    {
        var started = new CountdownEvent(2);
        bool politeSawStopping = false;
        await using Harness h = Harness.Tls(pki, IPAddress.Loopback, handler: async (c, stopping) =>
        {
            bool polite = c.Principal.Source == TrustSource.CertificateAuthority;
            started.Signal();
            if (polite)
            {
                await Task.Delay(Timeout.Infinite, stopping).ContinueWith(_ => politeSawStopping = true, TaskScheduler.Default);
                return;
            }

            // This one ignores the token and only ends when its socket is aborted.
            _ = await c.Stream.ReadAsync(new byte[1], CancellationToken.None);
        });
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        using TcpClient a = await TlsClient.ConnectAsync(h.Endpoint(), cts.Token);
        await using var aTls = new System.Net.Security.SslStream(a.GetStream());
        await aTls.AuthenticateAsClientAsync(TlsClient.Options(pki.CaClient, h.ServerPin), cts.Token);
        using TcpClient b = await TlsClient.ConnectAsync(h.Endpoint(), cts.Token);
        await using var bTls = new System.Net.Security.SslStream(b.GetStream());
        await bTls.AuthenticateAsClientAsync(TlsClient.Options(pki.PinnedSelfSigned, h.ServerPin), cts.Token);
        Assert.True(started.Wait(TimeSpan.FromSeconds(5)));

        var clock = Stopwatch.StartNew();
        await h.Server.StopAsync(TimeSpan.FromMilliseconds(300));

        Assert.True(politeSawStopping);
        Assert.Equal(0, h.Server.OpenConnections);
        Assert.InRange(clock.Elapsed, TimeSpan.FromMilliseconds(250), TimeSpan.FromSeconds(3));
        Assert.Contains(h.Log.Lines, l => l.Message.Contains("aborting", StringComparison.Ordinal));
    }

    [Fact]
    public async Task StopClosesTheListeners()
    {
        Harness h = Harness.Tls(pki, IPAddress.Loopback);
        IPEndPoint endpoint = h.Endpoint();
        await h.DisposeAsync();

        using var tcp = new TcpClient(AddressFamily.InterNetwork);
        await Assert.ThrowsAsync<SocketException>(() => tcp.ConnectAsync(endpoint));
    }

    [Fact]
    public async Task ServesWithAnIdentityLoadedFromPemFiles()
    {
        using var dir = new TempDir();
        PemFiles.WriteCertificate(dir.File("server.crt"), pki.Server);
        using (var key = pki.Server.GetECDsaPrivateKey()!)
        {
            PemFiles.WritePrivateKey(dir.File("server.key"), key, "pw");
        }

        ServerIdentity identity = ServerIdentity.Load(dir.File("server.crt"), dir.File("server.key"), "pw");
        Assert.Equal(pki.Identity.Pin, identity.Pin);
        await using var server = new WireServer(
            [new ListenEndpoint { Address = IPAddress.Loopback, Port = 0 }],
            identity, pki.Trust(), new WireLimits(), async (c, s) => await c.Stream.WriteAsync("hi\n"u8.ToArray(), s));
        server.Start();

        Assert.Equal("hi", await TlsClient.ReadLineAsync(server.BoundEndpoints[0], pki.CaClient, identity.Pin));
    }

    private static async Task WaitUntilAsync(Func<bool> condition)
    {
        var clock = Stopwatch.StartNew();
        while (!condition())
        {
            Assert.True(clock.Elapsed < TimeSpan.FromSeconds(5), "condition not reached within 5 s");
            await Task.Delay(10);
        }
    }
}
