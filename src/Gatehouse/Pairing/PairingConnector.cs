using System.Net;
using Gatehouse.Config;
using Gatehouse.Wire;

namespace Gatehouse.Pairing;

/// <summary>The connecting side: one attempt; the other device is recorded at the address it was reached at.</summary>
internal static class PairingConnector
{
    public static async Task<PairingResult> RunAsync(EndPoint endPoint, string? expectedPin, ServerIdentity identity, PairingSelf self, GatehouseConfig config, PairingConfirmation confirmation, CancellationToken cancellationToken)
    {
        SslStreamHolder connection;
        try
        {
            var (stream, remotePin) = await PairingTransport.ConnectAsync(endPoint, identity, expectedPin, cancellationToken).ConfigureAwait(false);
            connection = new SslStreamHolder(stream, remotePin);
        }
        catch (Exception ex) when (ex is IOException or System.Net.Sockets.SocketException or System.Security.Authentication.AuthenticationException)
        {
            throw new PairingException($"cannot reach a pairing device at {endPoint}: {ex.Message}", ex);
        }

        await using (connection.Stream.ConfigureAwait(false))
        {
            Console.Out.WriteLine($"pair: connected to {endPoint}, which presents {connection.RemotePin}");
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

    private sealed record SslStreamHolder(System.Net.Security.SslStream Stream, string RemotePin);
}
