using System.Net;
using System.Net.Sockets;

namespace Gatehouse.Wire;

/// <summary>
/// The stream over an accepted client socket: a <see cref="NetworkStream"/> whose writes first go to
/// the socket without waiting, and fall back to the asynchronous send only for what the kernel's
/// send buffer could not take at once. Almost every write of a gateway fits (answers, TLS records
/// up to 16 KiB), so the socket's cached asynchronous send state (~360 B of event args and
/// callbacks, kept by the socket for its whole life once made) is never made for most connections:
/// thousands of idle keep-alive connections are that much lighter (issue 9). Reads are
/// <see cref="ReadAheadSocketStream"/>'s.
/// </summary>
internal sealed partial class ConnectionStream : ReadAheadSocketStream
{
    private readonly Socket _socket;

    /// <summary>The first byte the client sent, or -1 before it came: a TLS port can tell plain HTTP (a letter) from a handshake (0x16).</summary>
    private int _firstByte = -1;

    /// <summary>Owns <paramref name="socket"/>, which is switched to non-blocking mode (see <see cref="WriteAsync(ReadOnlyMemory{byte}, CancellationToken)"/>).</summary>
    public ConnectionStream(Socket socket)
        : base(socket, ownsSocket: true)
    {
        // Non-blocking (the base class's doing): a synchronous send reports WouldBlock instead of
        // holding its thread whenever the send buffer is full, and the rest goes asynchronously.
        _socket = socket;
    }

    /// <summary>The local address and port the client reached.</summary>
    public IPEndPoint? LocalEndPoint => _socket.LocalEndPoint as IPEndPoint;

    /// <summary>Sends FIN: the client reads to the end of what was sent, while the server may still read what it sends.</summary>
    public void CloseForWriting() => _socket.Shutdown(SocketShutdown.Send);

    /// <summary>The first byte read from the client, or -1 when none came yet.</summary>
    public int FirstByte => _firstByte;

    public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        if (_held is not null)
        {
            // Whoever reads waits for the peer, so what it wrote must reach the peer first. The send
            // almost always completes at once (a handshake flight fits the send buffer): no extra state machine.
            ValueTask sent = SendHeldAsync(cancellationToken);
            if (!sent.IsCompletedSuccessfully)
            {
                return ReadAfterSendAsync(sent, buffer, cancellationToken);
            }
        }

        return _firstByte >= 0 ? base.ReadAsync(buffer, cancellationToken) : ReadFirstAsync(buffer, cancellationToken);
    }

    private async ValueTask<int> ReadAfterSendAsync(ValueTask sent, Memory<byte> buffer, CancellationToken cancellationToken)
    {
        await sent.ConfigureAwait(false);
        return await ReadAsync(buffer, cancellationToken).ConfigureAwait(false);
    }

    private async ValueTask<int> ReadFirstAsync(Memory<byte> buffer, CancellationToken cancellationToken)
    {
        var read = await base.ReadAsync(buffer, cancellationToken).ConfigureAwait(false);
        if (read > 0)
        {
            _firstByte = buffer.Span[0];
        }

        return read;
    }

    public override ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
    {
        if (cancellationToken.IsCancellationRequested)
        {
            return ValueTask.FromCanceled(cancellationToken);
        }

        if (_holding)
        {
            Hold(buffer.Span);
            return ValueTask.CompletedTask;
        }

        return Send(buffer, cancellationToken);
    }

    private ValueTask Send(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken)
    {

        var sent = 0;
        while (sent < buffer.Length)
        {
            int count;
            SocketError error;
            try
            {
                count = _socket.Send(buffer.Span[sent..], SocketFlags.None, out error);
            }
            catch (ObjectDisposedException ex)
            {
                return ValueTask.FromException(ex);
            }

            if (error == SocketError.Success)
            {
                sent += count;
            }
            else if (error == SocketError.WouldBlock)
            {
                return base.WriteAsync(buffer[sent..], cancellationToken);
            }
            else
            {
                // As NetworkStream reports a failed send: an IOException around the socket's error.
                return ValueTask.FromException(new IOException($"Unable to write data to the transport connection: {new SocketException((int)error).Message}.", new SocketException((int)error)));
            }
        }

        return ValueTask.CompletedTask;
    }

    public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        WriteAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();
}
