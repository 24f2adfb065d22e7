using System.Net;
using System.Net.Sockets;
using Gatehouse.Pairing;

namespace Gatehouse.Tests;

/// <summary>The pairing exchange itself, over a plain loopback socket (the TLS around it is tested through the executable).</summary>
public sealed class PairingSessionTests
{
    [Fact]
    public async Task BothSidesAgreeOnTheCodeAndLearnTheOthersPort()
    {
        var (pinA, pinB) = (PeerDevices.RandomPin(), PeerDevices.RandomPin());
        var (codes, a, b) = await RunAsync(pinA, pinB, connectorSees: pinB, listenerSees: pinA);

        Assert.Equal(2, codes.Count);
        Assert.Equal(codes[0], codes[1]);
        Assert.Equal(new PairedDevice(pinB, 9443, "b"), await a);
        Assert.Equal(new PairedDevice(pinA, 8443, "a"), await b);
    }

    [Fact]
    public async Task AListenerDetectsAConnectorThatSawAnotherKey()
    {
        // What a middleman relaying the messages produces: A saw the middleman's key, B saw A's.
        var (pinA, pinB, pinM) = (PeerDevices.RandomPin(), PeerDevices.RandomPin(), PeerDevices.RandomPin());
        var (codes, a, b) = await RunAsync(pinA, pinB, connectorSees: pinM, listenerSees: pinA);

        var listenerError = await Assert.ThrowsAsync<PairingException>(() => b);
        var connectorError = await Assert.ThrowsAsync<PairingException>(() => a);
        Assert.Contains("does not match the keys this device saw", listenerError.Message, StringComparison.Ordinal);
        Assert.Contains("the other device stopped", connectorError.Message, StringComparison.Ordinal);
        Assert.Empty(codes); // no code was ever shown for the person to wave through
    }

    [Fact]
    public async Task ANoOnEitherSideFailsBoth()
    {
        var (pinA, pinB) = (PeerDevices.RandomPin(), PeerDevices.RandomPin());
        var (_, a, b) = await RunAsync(pinA, pinB, connectorSees: pinB, listenerSees: pinA, connectorSays: false);

        Assert.Contains("not confirmed on this device", (await Assert.ThrowsAsync<PairingException>(() => a)).Message, StringComparison.Ordinal);
        Assert.Contains("other device did not confirm", (await Assert.ThrowsAsync<PairingException>(() => b)).Message, StringComparison.Ordinal);
    }

    private static async Task<(List<string> Codes, Task<PairedDevice> Connector, Task<PairedDevice> Listener)> RunAsync(
        string pinA, string pinB, string connectorSees, string listenerSees, bool connectorSays = true)
    {
        using var server = new TcpListener(IPAddress.Loopback, 0);
        server.Start();
        var client = new TcpClient();
        await client.ConnectAsync(IPAddress.Loopback, ((IPEndPoint)server.LocalEndpoint).Port);
        var accepted = await server.AcceptTcpClientAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        var codes = new List<string>();
        Task<bool> Say(string code, bool answer)
        {
            lock (codes)
            {
                codes.Add(code);
            }

            return Task.FromResult(answer);
        }

        var connector = PairingSession.RunAsConnectorAsync(new PairingChannel(client.GetStream()), new PairingSelf(pinA, 8443, "a"), connectorSees, (code, _) => Say(code, connectorSays), timeout.Token);
        var listener = PairingSession.RunAsListenerAsync(new PairingChannel(accepted.GetStream()), new PairingSelf(pinB, 9443, "b"), listenerSees, (code, _) => Say(code, true), timeout.Token);
        try
        {
            await Task.WhenAll(connector, listener);
        }
        catch (PairingException)
        {
            // each test looks at each side's own outcome
        }
        finally
        {
            client.Dispose();
            accepted.Dispose();
        }

        return (codes, connector, listener);
    }
}
