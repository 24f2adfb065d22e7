using System.Net;
using System.Net.Sockets;
using System.Security.Authentication;
using Gatehouse.Config;
using Gatehouse.Wire;

namespace Gatehouse.Pairing;

/// <summary>
/// The listening side: one attempt at a time (the next waits in the backlog), each attempt held to
/// <see cref="AttemptTime"/> until the code is shown, at most <see cref="MaxFailedAttempts"/>
/// failed ones per run. Once a code has been shown, any failure ends the run: a code that did not
/// match may mean someone in between, and the person should look before trying again.
/// </summary>
internal static class PairingListener
{
    public const int MaxFailedAttempts = 3;

    public static readonly TimeSpan AttemptTime = TimeSpan.FromSeconds(15);

    /// <param name="announce">Called once listening, with the bound port: announces this device on the link until the result is disposed (null: not announced).</param>
    public static async Task<PairingResult> RunAsync(IPEndPoint listen, ServerIdentity identity, PairingSelf self, GatehouseConfig config, PairingConfirmation confirmation, Func<int, IAsyncDisposable?>? announce, CancellationToken cancellationToken)
    {
        using var listener = new Socket(listen.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
        if (listen.AddressFamily == AddressFamily.InterNetworkV6 && listen.Address.Equals(IPAddress.IPv6Any))
        {
            listener.DualMode = true; // [::] takes IPv4 too, like the gateway's own listeners
        }

        try
        {
            listener.Bind(listen);
            listener.Listen(backlog: 4);
        }
        catch (SocketException ex)
        {
            throw new PairingException($"cannot listen on {listen}: {ex.Message}", ex);
        }

        var bound = (IPEndPoint)listener.LocalEndPoint!;
        Console.Out.WriteLine($"pair: waiting on {PeerAddressText.Format(bound.Address, bound.Port)} as {identity.Pin}");
        var announcement = announce?.Invoke(bound.Port);
        try
        {
            for (var failed = 0; ;)
            {
                var socket = await listener.AcceptAsync(cancellationToken).ConfigureAwait(false);
                var from = (IPEndPoint)socket.RemoteEndPoint!;
                using var attempt = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
                attempt.CancelAfter(AttemptTime);
                try
                {
                    return await AttemptAsync(socket, from, identity, self, config, confirmation, attempt, cancellationToken).ConfigureAwait(false);
                }
                catch (Exception ex) when (!confirmation.CodeShown && !cancellationToken.IsCancellationRequested
                    && ex is PairingException or IOException or SocketException or AuthenticationException or OperationCanceledException)
                {
                    failed++;
                    var why = ex is OperationCanceledException ? $"no answer within {AttemptTime.TotalSeconds:0} s" : ex.Message;
                    await Console.Error.WriteLineAsync($"gatehouse pair: attempt from {PeerAddressText.Format(from.Address, from.Port)} failed ({failed} of {MaxFailedAttempts}): {why}").ConfigureAwait(false);
                    if (failed >= MaxFailedAttempts)
                    {
                        throw new PairingException($"{MaxFailedAttempts} failed attempts; stopped. Nothing was written", ex);
                    }
                }
                catch (IOException ex)
                {
                    throw new PairingException("the connection broke: " + ex.Message, ex);
                }
            }
        }
        finally
        {
            if (announcement is not null)
            {
                await announcement.DisposeAsync().ConfigureAwait(false);
            }
        }
    }

    /// <summary>A device already in the config is not paired again (its grants would be ambiguous): say so to both.</summary>
    public static async Task RefuseKnownAsync(PairingChannel channel, GatehouseConfig config, string remotePin, CancellationToken cancellationToken)
    {
        if (PairedPeerWriter.KnownAs(config, remotePin) is { } known)
        {
            var reason = $"this key is already paired here as \"{known}\"";
            await channel.SendAsync(new PairingMessage { Step = "abort", Reason = reason }, cancellationToken).ConfigureAwait(false);
            throw new PairingException($"{remotePin} is already in the config as \"{known}\"; `gatehouse unpair {known}` first");
        }
    }

    private static async Task<PairingResult> AttemptAsync(Socket socket, IPEndPoint from, ServerIdentity identity, PairingSelf self, GatehouseConfig config, PairingConfirmation confirmation, CancellationTokenSource attempt, CancellationToken cancellationToken)
    {
        var (stream, remotePin) = await PairingTransport.AcceptAsync(socket, identity, attempt.Token).ConfigureAwait(false);
        await using (stream.ConfigureAwait(false))
        {
            Console.Out.WriteLine($"pair: connection from {PeerAddressText.Format(from.Address, from.Port)}, which presents {remotePin}");
            var channel = new PairingChannel(stream);
            await RefuseKnownAsync(channel, config, remotePin, attempt.Token).ConfigureAwait(false);
            var device = await PairingSession.RunAsListenerAsync(
                channel,
                self,
                remotePin,
                (code, _) =>
                {
                    // The person is looking now: the attempt's clock stops, the run's own timeout still holds.
                    attempt.CancelAfter(Timeout.InfiniteTimeSpan);
                    return confirmation.AskAsync(code, cancellationToken);
                },
                attempt.Token).ConfigureAwait(false);
            return new PairingResult(device, from);
        }
    }
}
