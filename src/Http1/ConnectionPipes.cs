using System.Buffers;
using System.IO.Pipelines;

namespace Gatehouse.Http1;

/// <summary>
/// A connection's pipe reader and writer, over a stream that can be pointed at another connection:
/// pipes cannot be re-targeted, but the stream under them can, so a set is pooled with the
/// <see cref="ExchangeParts"/> and an idle keep-alive connection holds none (issue 9: the two pipes
/// keep ~630 B of segments, stacks and token sources for life). A set goes back only clean: nothing
/// buffered or unflushed, no end seen, no read or flush in flight.
/// </summary>
internal sealed class ConnectionPipes
{
    private readonly SwitchableStream _stream = new();

    public ConnectionPipes(MemoryPool<byte> pool)
    {
        Pool = pool;
        // Zero-byte reads: the reader waits for data without holding a pooled buffer (SslStream supports them).
        Reader = PipeReader.Create(_stream, new StreamPipeReaderOptions(pool, bufferSize: 16 * 1024, minimumReadSize: 4 * 1024, leaveOpen: true, useZeroByteReads: true));
        Writer = PipeWriter.Create(_stream, new StreamPipeWriterOptions(pool, minimumBufferSize: 16 * 1024, leaveOpen: true));
    }

    /// <summary>Where the pipes' blocks come from: a set serves only connections of the same pool.</summary>
    public MemoryPool<byte> Pool { get; }

    public PipeReader Reader { get; }

    public PipeWriter Writer { get; }

    /// <summary>The pipes read from and write to <paramref name="stream"/> from now on.</summary>
    public void Bind(Stream stream) => _stream.Inner = stream;

    /// <summary>The pipes touch no stream until bound again (a stray use fails instead of reaching another connection).</summary>
    public void Unbind() => _stream.Inner = null;

    /// <summary>The forwarding stream under the pipes.</summary>
    private sealed class SwitchableStream : Stream
    {
        private Stream? _inner;

        public Stream? Inner
        {
            get => Volatile.Read(ref _inner);
            set => Volatile.Write(ref _inner, value);
        }

        public override bool CanRead => true;

        public override bool CanWrite => true;

        public override bool CanSeek => false;

        public override long Length => throw new NotSupportedException();

        public override long Position
        {
            get => throw new NotSupportedException();
            set => throw new NotSupportedException();
        }

        private Stream Current => Inner ?? throw new ObjectDisposedException(nameof(ConnectionPipes), "the pipes are parked, bound to no connection");

        public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) =>
            Current.ReadAsync(buffer, cancellationToken);

        public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
            Current.ReadAsync(buffer, offset, count, cancellationToken);

        public override ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default) =>
            Current.WriteAsync(buffer, cancellationToken);

        public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
            Current.WriteAsync(buffer, offset, count, cancellationToken);

        public override Task FlushAsync(CancellationToken cancellationToken) => Current.FlushAsync(cancellationToken);

        public override void Flush() => Current.Flush();

        public override int Read(byte[] buffer, int offset, int count) => Current.Read(buffer, offset, count);

        public override int Read(Span<byte> buffer) => Current.Read(buffer);

        public override void Write(byte[] buffer, int offset, int count) => Current.Write(buffer, offset, count);

        public override void Write(ReadOnlySpan<byte> buffer) => Current.Write(buffer);

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();
    }
}
