using System.Text.Json;

namespace Gatehouse.Pairing;

/// <summary>
/// JSON lines over the pairing TLS stream, each at most <see cref="MaxLineBytes"/>: the other side is
/// not trusted yet, so it may not make us buffer without a bound.
/// </summary>
internal sealed class PairingChannel
{
    public const int MaxLineBytes = 4096;

    private readonly Stream _stream;
    private readonly byte[] _buffer = new byte[MaxLineBytes];
    private int _count;

    public PairingChannel(Stream stream)
    {
        _stream = stream;
    }

    public async Task SendAsync(PairingMessage message, CancellationToken cancellationToken)
    {
        var bytes = JsonSerializer.SerializeToUtf8Bytes(message, PairingJsonContext.Default.PairingMessage);
        var line = new byte[bytes.Length + 1];
        bytes.CopyTo(line, 0);
        line[^1] = (byte)'\n';
        await _stream.WriteAsync(line, cancellationToken).ConfigureAwait(false);
        await _stream.FlushAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Whether the other side has closed the connection (a read saw its end).</summary>
    public bool Closed { get; private set; }

    /// <summary>The next message; an "abort" from the other side becomes a <see cref="PairingException"/>.</summary>
    /// <exception cref="PairingException">The other side closed, sent too much, or sent something malformed.</exception>
    public async Task<PairingMessage> ReceiveAsync(CancellationToken cancellationToken)
    {
        while (true)
        {
            var end = Array.IndexOf(_buffer, (byte)'\n', 0, _count);
            if (end >= 0)
            {
                var message = PairingJsonContext.Parse(_buffer.AsSpan(0, end));
                _count -= end + 1;
                Array.Copy(_buffer, end + 1, _buffer, 0, _count);
                if (message.Step == "abort")
                {
                    throw new PairingException("the other device stopped: " + (message.Reason ?? "no reason given"));
                }

                return message;
            }

            if (_count == _buffer.Length)
            {
                throw new PairingException($"the other side sent a line longer than {MaxLineBytes} bytes");
            }

            var read = await _stream.ReadAsync(_buffer.AsMemory(_count), cancellationToken).ConfigureAwait(false);
            if (read == 0)
            {
                Closed = true;
                throw new PairingException("the other device closed the connection");
            }

            _count += read;
        }
    }

    /// <summary>Receives the next message and checks it is the expected step.</summary>
    public async Task<PairingMessage> ReceiveAsync(string step, CancellationToken cancellationToken)
    {
        var message = await ReceiveAsync(cancellationToken).ConfigureAwait(false);
        return message.Step == step ? message : throw new PairingException($"expected \"{step}\" from the other device, got \"{message.Step}\"");
    }
}
