using System.Net;
using Gatehouse.Config;
using Gatehouse.Wire;

namespace Gatehouse.Pairing;

/// <summary>The connecting side: one attempt; the other device is recorded at the address it was reached at.</summary>
internal static class PairingConnector
{
    public static Task<PairingResult> RunAsync(EndPoint endPoint, string? expectedPin, ServerIdentity identity, PairingSelf self, GatehouseConfig config, PairingConfirmation confirmation, CancellationToken cancellationToken) =>
        RunAsync([endPoint], expectedPin, identity, self, config, confirmation, cancellationToken);

    /// <summary>Dials <paramref name="endPoints"/> in turn (a device heard on the link may answer at some of its addresses only) and pairs over the first that connects.</summary>
    public static async Task<PairingResult> RunAsync(IReadOnlyList<EndPoint> endPoints, string? expectedPin, ServerIdentity identity, PairingSelf self, GatehouseConfig config, PairingConfirmation confirmation, CancellationToken cancellationToken)
    {
        SslStreamHolder? connection = null;
        EndPoint endPoint = endPoints[0];
        for (var i = 0; connection is null; i++)
        {
            endPoint = endPoints[i];
            try
            {
                var (stream, remotePin) = await PairingTransport.ConnectAsync(endPoint, identity, expectedPin, cancellationToken).ConfigureAwait(false);
                connection = new SslStreamHolder(stream, remotePin);
            }
            catch (System.Net.Sockets.SocketException ex) when (i + 1 < endPoints.Count)
            {
                await Console.Error.WriteLineAsync($"gatehouse pair: {PeerAddressText.Format(endPoint, Port(endPoint))}: {ex.Message}; trying the next address").ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is IOException or System.Net.Sockets.SocketException or System.Security.Authentication.AuthenticationException)
            {
                throw new PairingException($"cannot reach a pairing device at {PeerAddressText.Format(endPoint, Port(endPoint))}: {ex.Message}", ex);
            }
        }

        await using (connection.Stream.ConfigureAwait(false))
        {
            Console.Out.WriteLine($"pair: connected to {PeerAddressText.Format(endPoint, Port(endPoint))}, which presents {connection.RemotePin}");
            var channel = new PairingChannel(connection.Stream);
            await PairingListener.RefuseKnownAsync(channel, config, connection.RemotePin, cancellationToken).ConfigureAwait(false);
            try
            {
                var device = await PairingSession.RunAsConnectorAsync(channel, self, connection.RemotePin, confirmation.AskAsync, cancellationToken).ConfigureAwait(false);
                return new PairingResult(device, endPoint);
            }
            catch (IOException ex)
            {
                throw new PairingException("the connection broke: " + ex.Message, ex);
            }
        }
    }

    private static int Port(EndPoint endPoint) => endPoint switch
    {
        IPEndPoint ip => ip.Port,
        DnsEndPoint dns => dns.Port,
        _ => 0,
    };

    private sealed record SslStreamHolder(System.Net.Security.SslStream Stream, string RemotePin);
}
