namespace Gatehouse.Testing;

/// <summary>
/// Sits under a client's SslStream and counts the TLS records the server sent, by following the
/// 5-byte record headers in the bytes read: how many records (and sends) an answer or a burst took.
/// Linked into the test projects that need it (tests/Shared).
/// </summary>
internal sealed class TlsRecordCounter(Stream inner) : Stream
{
    private const byte ApplicationData = 23;

    private readonly byte[] _header = new byte[5];
    private int _headerFill;
    private int _bodyLeft;
    private long _records;
    private long _applicationRecords;

    /// <summary>Every record read.</summary>
    public long Records => Interlocked.Read(ref _records);

    /// <summary>Records of type application_data (in TLS 1.3, every record after the server's hello).</summary>
    public long ApplicationRecords => Interlocked.Read(ref _applicationRecords);

    public override bool CanRead => true;

    public override bool CanSeek => false;

    public override bool CanWrite => true;

    public override long Length => throw new NotSupportedException();

    public override long Position
    {
        get => throw new NotSupportedException();
        set => throw new NotSupportedException();
    }

    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        var read = await inner.ReadAsync(buffer, cancellationToken);
        Follow(buffer.Span[..read]);
        return read;
    }

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override int Read(byte[] buffer, int offset, int count)
    {
        var read = inner.Read(buffer, offset, count);
        Follow(buffer.AsSpan(offset, read));
        return read;
    }

    public override ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default) => inner.WriteAsync(buffer, cancellationToken);

    public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) => inner.WriteAsync(buffer, offset, count, cancellationToken);

    public override void Write(byte[] buffer, int offset, int count) => inner.Write(buffer, offset, count);

    public override Task FlushAsync(CancellationToken cancellationToken) => inner.FlushAsync(cancellationToken);

    public override void Flush() => inner.Flush();

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            inner.Dispose();
        }

        base.Dispose(disposing);
    }

    private void Follow(ReadOnlySpan<byte> bytes)
    {
        while (!bytes.IsEmpty)
        {
            if (_bodyLeft > 0)
            {
                var skip = Math.Min(_bodyLeft, bytes.Length);
                _bodyLeft -= skip;
                bytes = bytes[skip..];
                continue;
            }

            _header[_headerFill++] = bytes[0];
            bytes = bytes[1..];
            if (_headerFill == _header.Length)
            {
                _headerFill = 0;
                _bodyLeft = (_header[3] << 8) | _header[4];
                Interlocked.Increment(ref _records);
                if (_header[0] == ApplicationData)
                {
                    Interlocked.Increment(ref _applicationRecords);
                }
            }
        }
    }
}
