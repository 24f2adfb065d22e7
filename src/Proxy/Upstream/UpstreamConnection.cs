using System.Buffers;
using System.IO.Pipelines;
using System.Net.Sockets;
using Gatehouse.Wire;

namespace Gatehouse.Proxy;

/// <summary>
/// One keep-alive connection to a node: the socket, a stream for writes, and a pipe reader for the
/// answers (kept across requests, since it may hold read-ahead bytes only between answers, which
/// <see cref="HasUnreadBytes"/> rules out before reuse).
/// </summary>
internal sealed class UpstreamConnection : IAsyncDisposable
{
    private int _disposed;
    private int _readerCompleted;

    public UpstreamConnection(UpstreamNode node, Socket socket, MemoryPool<byte> pool)
        : this(node, socket, new ReadAheadSocketStream(socket, ownsSocket: true), pool)
    {
    }

    /// <summary>A connection whose bytes go through <paramref name="stream"/> (the TLS stream of a peer link, issue 8).</summary>
    public UpstreamConnection(UpstreamNode node, Socket socket, Stream stream, MemoryPool<byte> pool)
    {
        Node = node;
        Socket = socket;
        Stream = stream;
        Reader = PipeReader.Create(Stream, new StreamPipeReaderOptions(pool, bufferSize: 16 * 1024, minimumReadSize: 4 * 1024, leaveOpen: true));
    }

    public UpstreamNode Node { get; }

    public Socket Socket { get; }

    /// <summary>The socket's stream, or the TLS stream over it; writes go here.</summary>
    public Stream Stream { get; }

    /// <summary>The stream is the socket's own (no TLS): what the socket has not delivered, nobody holds.</summary>
    public bool IsPlainTcp => Stream is NetworkStream;

    public PipeReader Reader { get; }

    /// <summary>
    /// The deadlines and the client watch of the forward this connection carries, kept across its
    /// keep-alive forwards: a forward makes no token source or timer of its own (issue 9).
    /// Only one forward at a time uses a connection, so one set is enough.
    /// </summary>
    public IdleDeadline AnswerDeadline { get; } = new();

    /// <inheritdoc cref="AnswerDeadline"/>
    public IdleDeadline WriteDeadline { get; } = new();

    /// <inheritdoc cref="AnswerDeadline"/>
    public IdleDeadline BodyDeadline { get; } = new();

    /// <inheritdoc cref="AnswerDeadline"/>
    public ClientDepartureWatch DepartureWatch { get; } = new();

    /// <summary>Each request head is written with this one (one forward at a time; issue 9).</summary>
    public RequestHeadWriter HeadWriter { get; } = new();

    /// <summary>Each answer's head is parsed into this one (one forward at a time; issue 9).</summary>
    public UpstreamResponseHead ResponseHead { get; } = new();

    private ContentLengthUpstreamBody? _contentLengthBody;
    private EmptyUpstreamBody? _emptyBody;

    /// <summary>The answer's body reader: the connection's own for Content-Length and empty bodies (most answers), new for the rest.</summary>
    public UpstreamBody BodyFor(UpstreamFraming framing, long contentLength) => framing switch
    {
        UpstreamFraming.ContentLength => (_contentLengthBody ??= new ContentLengthUpstreamBody(Reader)).Start(contentLength),
        UpstreamFraming.None => _emptyBody ??= new EmptyUpstreamBody(Reader),
        _ => UpstreamBody.Create(framing, Reader, contentLength),
    };

    /// <summary>Answers completed on this connection; above zero means it came from the pool.</summary>
    public int CompletedExchanges { get; set; }

    /// <summary>When it was last put back in the pool (Environment.TickCount64 ms).</summary>
    public long IdleSince { get; set; }

    public bool IsDisposed => Volatile.Read(ref _disposed) != 0;

    /// <summary>
    /// A pooled connection the node closed (or wrote to unasked) is readable while idle: such a
    /// connection must not carry a request. Costs one non-blocking poll. On TLS the poll sees
    /// records too (a close_notify, a late session ticket): any doubt means a fresh connection.
    /// One poll is enough: Linux reports a FIN as readable and a reset as readable and hung up
    /// (POLLHUP, which SelectRead counts), so a second SelectError poll found nothing new and
    /// cost a syscall per reused connection.
    /// </summary>
    public bool LooksReusable()
    {
        if (IsDisposed)
        {
            return false;
        }

        try
        {
            return !Socket.Poll(0, SelectMode.SelectRead);
        }
        catch (Exception ex) when (ex is SocketException or ObjectDisposedException)
        {
            return false;
        }
    }

    /// <summary>True when bytes (or EOF) wait after a finished answer: the framing is in doubt, do not reuse.</summary>
    public bool HasUnreadBytes()
    {
        // Bytes read ahead of the pipe (ReadAheadSocketStream) are unread bytes too.
        if (Stream is ReadAheadSocketStream { HasReadAhead: true })
        {
            return true;
        }

        if (!Reader.TryRead(out var result))
        {
            return false;
        }

        var dirty = !result.Buffer.IsEmpty || result.IsCompleted || result.IsCanceled;
        Reader.AdvanceTo(result.Buffer.Start);
        return dirty;
    }

    /// <summary>Disarms and unlinks the deadlines of the forward that just ended, so the next one starts clean.</summary>
    public void EndForward()
    {
        AnswerDeadline.Detach();
        WriteDeadline.Detach();
        BodyDeadline.Detach();
    }

    /// <summary>Closes the socket at once from any thread; pending reads and writes fail. Safe to call more than once.</summary>
    public void Abort()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        try
        {
            Socket.Dispose();
            Stream.Dispose();
        }
        catch (Exception ex) when (ex is SocketException or IOException or ObjectDisposedException)
        {
            // Already gone: nothing to release twice.
        }
    }

    /// <summary>Aborts and returns the reader's buffers. Only the connection's owner calls this, never while it reads.</summary>
    public async ValueTask DisposeAsync()
    {
        Abort();
        if (Interlocked.Exchange(ref _readerCompleted, 1) == 0)
        {
            await Reader.CompleteAsync().ConfigureAwait(false);
            DepartureWatch.Dispose();
            AnswerDeadline.Dispose();
            WriteDeadline.Dispose();
            BodyDeadline.Dispose();
        }
    }
}
