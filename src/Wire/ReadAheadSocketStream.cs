using System.Buffers;
using System.Net.Sockets;

namespace Gatehouse.Wire;

/// <summary>
/// A <see cref="NetworkStream"/> over a non-blocking socket whose zero-byte reads ("tell me when bytes
/// come", as SslStream and the pipes ask before each read) receive the bytes at once while the peer
/// keeps the connection busy. On Linux a zero-byte read is a one-byte peek, a receive system call of
/// its own even when the bytes are already there; the read after it is a second. Under load, where
/// bytes are nearly always waiting, that is a receive per read spent on asking.
/// While the last readiness check found bytes at once, the next one receives into a pooled buffer
/// instead, and the reads after it are served from there. When that receive finds nothing, the stream
/// falls back to the plain zero-byte wait: a connection waiting for its peer holds no buffer (issue 9).
/// </summary>
public class ReadAheadSocketStream : NetworkStream
{
    private const int AheadSize = 16 * 1024;

    private readonly Socket _socket;
    private byte[]? _ahead;
    private int _aheadStart;
    private int _aheadEnd;
    private bool _peerDone;   // a read-ahead met the end of the stream; the reads after the bytes report it
    private bool _busy;       // the last readiness check found bytes without waiting

    /// <summary>Switches <paramref name="socket"/> to non-blocking mode; NetworkStream refuses one only at construction.</summary>
    public ReadAheadSocketStream(Socket socket, bool ownsSocket)
        : base(socket, ownsSocket)
    {
        _socket = socket;
        socket.Blocking = false;
    }

    /// <summary>True while bytes read ahead wait to be read: the socket no longer shows them.</summary>
    public bool HasReadAhead => _ahead is not null || _peerDone;

    public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        if (HasReadAhead)
        {
            return new ValueTask<int>(TakeAhead(buffer.Span));
        }

        if (!buffer.IsEmpty)
        {
            return base.ReadAsync(buffer, cancellationToken);
        }

        if (_busy && !cancellationToken.IsCancellationRequested)
        {
            var error = TryReadAhead();
            if (error == SocketError.Success)
            {
                return new ValueTask<int>(0);
            }

            if (error != SocketError.WouldBlock)
            {
                // As NetworkStream reports a failed receive: an IOException around the socket's error.
                return ValueTask.FromException<int>(new IOException(
                    $"Unable to read data from the transport connection: {new SocketException((int)error).Message}.",
                    new SocketException((int)error)));
            }
        }

        var wait = base.ReadAsync(buffer, cancellationToken);
        _busy = wait.IsCompletedSuccessfully;
        return wait;
    }

    /// <summary>One non-blocking receive into a pooled buffer, kept when it brought bytes (or the end).</summary>
    private SocketError TryReadAhead()
    {
        var ahead = ArrayPool<byte>.Shared.Rent(AheadSize);
        int read;
        SocketError error;
        try
        {
            read = _socket.Receive(ahead, SocketFlags.None, out error);
        }
        catch (ObjectDisposedException)
        {
            read = 0;
            error = SocketError.OperationAborted;
        }

        if (error == SocketError.Success && read > 0)
        {
            _ahead = ahead;
            _aheadStart = 0;
            _aheadEnd = read;
            return error;
        }

        ArrayPool<byte>.Shared.Return(ahead);
        _peerDone = error == SocketError.Success;
        _busy = false;
        return error;
    }

    private int TakeAhead(Span<byte> destination)
    {
        if (_ahead is not { } ahead)
        {
            return 0; // the end of the stream, which a read-ahead met
        }

        var count = Math.Min(destination.Length, _aheadEnd - _aheadStart);
        ahead.AsSpan(_aheadStart, count).CopyTo(destination);
        _aheadStart += count;
        if (_aheadStart == _aheadEnd)
        {
            _ahead = null;
            ArrayPool<byte>.Shared.Return(ahead);
        }

        return count;
    }

    // NetworkStream's own overloads below go to the socket directly; they must see the bytes read ahead.
    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override IAsyncResult BeginRead(byte[] buffer, int offset, int count, AsyncCallback? callback, object? state) =>
        TaskToAsyncResult.Begin(ReadAsync(buffer, offset, count, CancellationToken.None), callback, state);

    public override int EndRead(IAsyncResult asyncResult) => TaskToAsyncResult.End<int>(asyncResult);

    // Synchronous reads and writes on the non-blocking socket would not wait: they take the
    // asynchronous path and wait for it. Nothing in the gateway reads or writes synchronously; these
    // keep the Stream contract whole.
    public override int Read(Span<byte> buffer)
    {
        var copy = new byte[buffer.Length];
        var read = ReadAsync(copy).AsTask().GetAwaiter().GetResult();
        copy.AsSpan(0, read).CopyTo(buffer);
        return read;
    }

    public override int Read(byte[] buffer, int offset, int count) =>
        ReadAsync(buffer.AsMemory(offset, count)).AsTask().GetAwaiter().GetResult();

    public override void Write(ReadOnlySpan<byte> buffer)
    {
        var copy = buffer.ToArray();
        WriteAsync(copy).AsTask().GetAwaiter().GetResult();
    }

    public override void Write(byte[] buffer, int offset, int count) =>
        WriteAsync(buffer.AsMemory(offset, count)).AsTask().GetAwaiter().GetResult();

    public override int ReadByte()
    {
        Span<byte> one = stackalloc byte[1];
        return Read(one) == 1 ? one[0] : -1;
    }

    protected override void Dispose(bool disposing)
    {
        // Not returned to the pool: a read on another thread may still be copying from it.
        _ahead = null;
        base.Dispose(disposing);
    }
}
