namespace Gatehouse.Pairing;

/// <summary>This device as the other side will record it.</summary>
/// <param name="Pin">The pin of the key this side presented in the TLS handshake.</param>
/// <param name="Port">The port its gateway listens on.</param>
/// <param name="Name">Its device name (a hint).</param>
internal sealed record PairingSelf(string Pin, int Port, string Name);

/// <summary>The other device, once both people confirmed the code.</summary>
internal sealed record PairedDevice(string Pin, int Port, string? Name);

/// <summary>
/// The exchange over a TLS connection in which each side presented its own key and recorded the
/// other's pin (issue 21 item 2). Connector A, listener B:
/// 1. A → B  commit: SHA-256(label ‖ nonceA ‖ pinA ‖ pinB), A's port and name;
/// 2. B → A  nonce: nonceB, B's port and name (B is now bound: A's nonce is fixed but unknown to it);
/// 3. A → B  reveal: nonceA; B checks it opens the commitment for the pins B saw, and says
///    "opened" (so a mismatch shows no code on either screen, only an error on both);
/// 4. both show the code from both nonces and both pins (<see cref="PairingCode.Derive"/>) and ask
///    their person; each sends confirm {ok} and needs the other's ok too.
/// Nothing is returned — so nothing is written — unless both people said yes.
/// </summary>
internal static class PairingSession
{
    /// <summary>Asks this side's person whether the code matches; true only for an explicit yes.</summary>
    public delegate Task<bool> Confirmation(string code, CancellationToken cancellationToken);

    public static async Task<PairedDevice> RunAsConnectorAsync(PairingChannel channel, PairingSelf self, string listenerPin, Confirmation confirm, CancellationToken cancellationToken)
    {
        var nonce = PairingCode.NewNonce();
        var commitment = PairingCode.Commit(nonce, self.Pin, listenerPin);
        await channel.SendAsync(new PairingMessage { Step = "commit", Value = Convert.ToBase64String(commitment), Port = self.Port, Name = self.Name }, cancellationToken).ConfigureAwait(false);
        var answer = await channel.ReceiveAsync("nonce", cancellationToken).ConfigureAwait(false);
        var listenerNonce = DecodeNonce(answer.Value);
        var port = RequirePort(answer.Port);
        await channel.SendAsync(new PairingMessage { Step = "reveal", Value = Convert.ToBase64String(nonce) }, cancellationToken).ConfigureAwait(false);
        await channel.ReceiveAsync("opened", cancellationToken).ConfigureAwait(false);
        var code = PairingCode.Derive(nonce, listenerNonce, self.Pin, listenerPin);
        await ConfirmBothAsync(channel, code, confirm, cancellationToken).ConfigureAwait(false);
        return new PairedDevice(listenerPin, port, answer.Name);
    }

    public static async Task<PairedDevice> RunAsListenerAsync(PairingChannel channel, PairingSelf self, string connectorPin, Confirmation confirm, CancellationToken cancellationToken)
    {
        var commit = await channel.ReceiveAsync("commit", cancellationToken).ConfigureAwait(false);
        var commitment = Decode(commit.Value, 32, "commitment");
        var port = RequirePort(commit.Port);
        var nonce = PairingCode.NewNonce();
        await channel.SendAsync(new PairingMessage { Step = "nonce", Value = Convert.ToBase64String(nonce), Port = self.Port, Name = self.Name }, cancellationToken).ConfigureAwait(false);
        var reveal = await channel.ReceiveAsync("reveal", cancellationToken).ConfigureAwait(false);
        var connectorNonce = DecodeNonce(reveal.Value);
        if (!PairingCode.Opens(commitment, connectorNonce, connectorPin, self.Pin))
        {
            // Either a broken client or one that saw other keys than we did: someone is in between.
            await TryAbortAsync(channel, "the commitment does not match the keys this device saw", cancellationToken).ConfigureAwait(false);
            throw new PairingException("the other device's commitment does not match the keys this device saw (a device in between?)");
        }

        await channel.SendAsync(new PairingMessage { Step = "opened" }, cancellationToken).ConfigureAwait(false);
        var code = PairingCode.Derive(connectorNonce, nonce, connectorPin, self.Pin);
        await ConfirmBothAsync(channel, code, confirm, cancellationToken).ConfigureAwait(false);
        return new PairedDevice(connectorPin, port, commit.Name);
    }

    private static async Task ConfirmBothAsync(PairingChannel channel, string code, Confirmation confirm, CancellationToken cancellationToken)
    {
        var local = confirm(code, cancellationToken);
        var remote = RemoteConfirmedAsync(channel, cancellationToken);
        // The other person may answer first: a "no" there ends this side at once, without waiting for ours.
        if (await Task.WhenAny(local, remote).ConfigureAwait(false) == remote && !await remote.ConfigureAwait(false))
        {
            throw new PairingException("the other device did not confirm the code; nothing was written");
        }

        var ok = await local.ConfigureAwait(false);
        try
        {
            await channel.SendAsync(new PairingMessage { Step = "confirm", Ok = ok }, cancellationToken).ConfigureAwait(false);
        }
        catch (IOException) when (ok)
        {
            // The other side said no and left while this person said yes: its answer (or its leaving) says the rest.
        }

        if (!ok)
        {
            throw new PairingException("the code was not confirmed on this device; nothing was written");
        }

        if (!await remote.ConfigureAwait(false))
        {
            throw new PairingException("the other device did not confirm the code; nothing was written");
        }
    }

    /// <summary>The other side's answer; a side that closes or resets the connection once the code is shown has not confirmed.</summary>
    private static async Task<bool> RemoteConfirmedAsync(PairingChannel channel, CancellationToken cancellationToken)
    {
        try
        {
            return (await channel.ReceiveAsync("confirm", cancellationToken).ConfigureAwait(false)).Ok == true;
        }
        catch (IOException)
        {
            return false;
        }
        catch (PairingException) when (channel.Closed)
        {
            return false;
        }
    }

    private static async Task TryAbortAsync(PairingChannel channel, string reason, CancellationToken cancellationToken)
    {
        try
        {
            await channel.SendAsync(new PairingMessage { Step = "abort", Reason = reason }, cancellationToken).ConfigureAwait(false);
        }
        catch (IOException)
        {
            // the other side is gone already; our own message says what happened
        }
    }

    private static byte[] DecodeNonce(string? value) => Decode(value, PairingCode.NonceBytes, "nonce");

    private static byte[] Decode(string? value, int length, string what)
    {
        var bytes = new byte[length + 3];
        if (value is null || !Convert.TryFromBase64String(value, bytes, out var written) || written != length)
        {
            throw new PairingException($"the other device sent a malformed {what}");
        }

        return bytes[..length];
    }

    private static int RequirePort(int? port) =>
        port is >= 1 and <= 65535 ? port.Value : throw new PairingException("the other device did not say which port its gateway listens on");
}
