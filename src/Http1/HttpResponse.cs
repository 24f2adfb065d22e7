using System.Buffers;
using System.Buffers.Text;
using System.IO.Pipelines;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;

namespace Gatehouse.Http1;

/// <summary>
/// Writes one response: status line and headers, then a body framed by Content-Length,
/// chunked, or connection close (HTTP/1.0). The handler writes body bytes straight into the
/// connection's pooled output buffers with <see cref="GetMemory"/>/<see cref="Advance"/>
/// (no intermediate copy) or with <see cref="WriteAsync"/>; on a plain connection a file range can
/// go from the page cache to the socket with <see cref="SendFileAsync"/> (HttpResponse.SendFile.cs).
/// </summary>
public sealed partial class HttpResponse
{
    // Chunk framing around memory handed out by GetMemory: "XXXXXXXX\r\n" before, "\r\n" after.
    private const int ChunkPrefix = 10;
    private const int ChunkSuffix = 2;
    private static readonly byte[] DiscardBuffer = new byte[16 * 1024];

    private PipeWriter _output; // the connection's, until Unbind: a pooled response serves many connections in turn
    private HttpVersion _version;
    private bool _isHead;
    private Socket? _plainSocket;
    private BodyMode _mode;
    private long _bodyBytes;
    private Memory<byte> _chunkMemory;
    private CancellationToken _draining; // the server is stopping: a head written from then on says Connection: close

    /// <param name="plainSocket">The socket under <paramref name="output"/> when nothing (no TLS) sits between them; enables <see cref="SendFileAsync"/>.</param>
    internal HttpResponse(PipeWriter output, HttpVersion version, bool isHead, bool keepAlive, Socket? plainSocket = null)
    {
        _output = output;
        _version = version;
        _isHead = isHead;
        KeepAlive = keepAlive;
        _plainSocket = plainSocket;
    }

    /// <summary>
    /// Makes this response the next request's, as new, on <paramref name="output"/>: responses are
    /// pooled (<see cref="ExchangeParts"/>, issue 9). Status, headers, framing and counts start over.
    /// </summary>
    internal HttpResponse Restart(PipeWriter output, Socket? plainSocket, HttpVersion version, bool isHead, bool keepAlive)
    {
        _draining = default;
        _output = output;
        _plainSocket = plainSocket;
        _version = version;
        _isHead = isHead;
        KeepAlive = keepAlive;
        StatusCode = 200;
        Headers.Clear();
        ContentLength = null;
        _mode = BodyMode.NotStarted;
        _bodyBytes = 0;
        _chunkMemory = default;
        return this;
    }

    /// <summary>
    /// A response whose head is written after <paramref name="draining"/> fires closes its connection
    /// (and says so), since the connection will carry no further request.
    /// </summary>
    internal HttpResponse CloseWhen(CancellationToken draining)
    {
        _draining = draining;
        return this;
    }

    /// <summary>Lets go of the connection's writer and socket while this response waits in the pool.</summary>
    internal void Unbind()
    {
        _draining = default;
        _output = null!;
        _plainSocket = null;
        _chunkMemory = default;
        Headers.Clear();
    }

    private enum BodyMode
    {
        NotStarted,
        None,
        Length,
        Chunked,
        UntilClose,
        Completed,
    }

    public int StatusCode { get; set; } = 200;

    public ResponseHeaders Headers { get; } = new();

    /// <summary>Set before the head is written to send a Content-Length body; null means chunked (or close-delimited for HTTP/1.0).</summary>
    public long? ContentLength { get; set; }

    public bool HasStarted => _mode != BodyMode.NotStarted;

    public bool IsCompleted => _mode == BodyMode.Completed;

    /// <summary>Body bytes written so far (after framing is removed).</summary>
    public long BodyBytesWritten => _bodyBytes;

    /// <summary>The connection stays open after this response. Handlers may turn it off; the writer turns it off when the framing demands.</summary>
    public bool KeepAlive { get; set; }

    /// <summary>Writes the status line and headers (once) and flushes them, so a streaming body's headers leave at once.</summary>
    public async ValueTask StartAsync(CancellationToken cancellationToken = default)
    {
        WriteHead();
        await FlushAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Memory for at least <paramref name="sizeHint"/> body bytes; commit with <see cref="Advance"/>.</summary>
    public Memory<byte> GetMemory(int sizeHint = 0)
    {
        WriteHead();
        switch (_mode)
        {
            case BodyMode.Chunked:
                _chunkMemory = _output.GetMemory(Math.Max(sizeHint, 4096) + ChunkPrefix + ChunkSuffix);
                return _chunkMemory[ChunkPrefix..^ChunkSuffix];
            case BodyMode.Length:
            case BodyMode.UntilClose:
                return _output.GetMemory(sizeHint);
            case BodyMode.None:
                return DiscardBuffer;
            default:
                throw new InvalidOperationException("the response is complete");
        }
    }

    public void Advance(int count)
    {
        if (count == 0)
        {
            return;
        }

        _bodyBytes += count;
        switch (_mode)
        {
            case BodyMode.Chunked:
                var span = _chunkMemory.Span;
                Utf8Formatter.TryFormat((uint)count, span, out _, new StandardFormat('X', 8));
                span[8] = (byte)'\r';
                span[9] = (byte)'\n';
                span[ChunkPrefix + count] = (byte)'\r';
                span[ChunkPrefix + count + 1] = (byte)'\n';
                _output.Advance(count + ChunkPrefix + ChunkSuffix);
                _chunkMemory = default;
                break;
            case BodyMode.Length:
                if (_bodyBytes > ContentLength)
                {
                    throw new InvalidOperationException("response body longer than its Content-Length");
                }

                _output.Advance(count);
                break;
            case BodyMode.UntilClose:
                _output.Advance(count);
                break;
        }
    }

    /// <summary>Copies <paramref name="data"/> into the body and flushes (the flush applies the client's back-pressure).</summary>
    public async ValueTask WriteAsync(ReadOnlyMemory<byte> data, CancellationToken cancellationToken = default)
    {
        while (!data.IsEmpty)
        {
            var memory = GetMemory(Math.Min(data.Length, 64 * 1024));
            var count = Math.Min(memory.Length, data.Length);
            data.Span[..count].CopyTo(memory.Span);
            Advance(count);
            data = data[count..];
        }

        await FlushAsync(cancellationToken).ConfigureAwait(false);
    }

    public async ValueTask FlushAsync(CancellationToken cancellationToken = default)
    {
        var result = await _output.FlushAsync(cancellationToken).ConfigureAwait(false);
        if (result.IsCompleted)
        {
            throw new IOException("the client closed the connection");
        }
    }

    /// <summary>Ends the body (final chunk), checks the length matched, and flushes.</summary>
    public async ValueTask CompleteAsync(CancellationToken cancellationToken = default)
    {
        if (_mode == BodyMode.Completed)
        {
            return;
        }

        if (_mode == BodyMode.NotStarted && ContentLength is null && !IsBodyless(StatusCode))
        {
            ContentLength = 0;
        }

        WriteHead();
        if (_mode == BodyMode.Chunked)
        {
            "0\r\n\r\n"u8.CopyTo(_output.GetSpan(5));
            _output.Advance(5);
        }
        else if (_mode == BodyMode.Length && _bodyBytes != ContentLength)
        {
            // The framing promised more than was written: the only honest end is to close.
            KeepAlive = false;
            _mode = BodyMode.Completed;
            throw new IOException("response body shorter than its Content-Length");
        }

        _mode = BodyMode.Completed;
        await FlushAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Sends a complete response with a small body.</summary>
    public async ValueTask SendAsync(int status, string contentType, ReadOnlyMemory<byte> body, CancellationToken cancellationToken = default)
    {
        StatusCode = status;
        Headers.Set("Content-Type", contentType);
        ContentLength = body.Length;
        WriteHead();
        if (!body.IsEmpty && _mode == BodyMode.Length)
        {
            var memory = _output.GetMemory(body.Length);
            body.Span.CopyTo(memory.Span);
            Advance(body.Length);
        }
        else
        {
            _bodyBytes = body.Length;
        }

        await CompleteAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Sends <c>{"error":"…","reason":"…"}</c> (DESIGN.md decision 6): short, no internals.</summary>
    public ValueTask SendErrorAsync(int status, string reason, CancellationToken cancellationToken = default) =>
        SendAsync(status, "application/json", ErrorBody(status, reason), cancellationToken);

    public static byte[] ErrorBody(int status, string reason)
    {
        var buffer = new ArrayBufferWriter<byte>(128);
        using (var json = new Utf8JsonWriter(buffer))
        {
            json.WriteStartObject();
            json.WriteString("error"u8, StatusText.ErrorName(status));
            json.WriteString("reason"u8, reason);
            json.WriteEndObject();
        }

        return buffer.WrittenSpan.ToArray();
    }

    private static bool IsBodyless(int status) => status is < 200 or 204 or 304;

    private void WriteHead()
    {
        if (_mode != BodyMode.NotStarted)
        {
            return;
        }

        if (IsBodyless(StatusCode))
        {
            _mode = BodyMode.None;
        }
        else if (ContentLength is not null)
        {
            _mode = _isHead ? BodyMode.None : BodyMode.Length;
        }
        else if (_isHead)
        {
            _mode = BodyMode.None;
        }
        else if (_version == HttpVersion.Http11)
        {
            _mode = BodyMode.Chunked;
        }
        else
        {
            _mode = BodyMode.UntilClose;
            KeepAlive = false;
        }

        if (_draining.IsCancellationRequested)
        {
            KeepAlive = false;
        }

        // One span for the whole head, one Advance: a GetSpan/Advance pair per piece (thirty for a
        // proxied answer) cost more than writing the bytes (issue 22). Latin-1 is a byte per char.
        var reason = StatusText.Reason(StatusCode);
        var fields = Headers.TextFields;
        var lines = Headers.Lines;
        var size = HeadOverhead + reason.Length + lines.Length;
        foreach (var field in fields)
        {
            size += field.Name.Length + field.Value.Length + 4;
        }

        var writer = new HeadWriter(_output.GetSpan(size));
        writer.Write(_version == HttpVersion.Http11 ? "HTTP/1.1 "u8 : "HTTP/1.0 "u8);
        writer.WriteNumber(StatusCode);
        writer.Write(" "u8);
        writer.WriteLatin1(reason);
        writer.Write("\r\nDate: "u8);
        writer.Write(DateHeaderValue.Current);
        writer.Write("\r\n"u8);
        foreach (var field in fields)
        {
            if (ResponseHeaders.IsFramingField(field.Name))
            {
                continue; // framing is the writer's alone, never a handler's or a backend's
            }

            writer.WriteLatin1(field.Name);
            writer.Write(": "u8);
            writer.WriteLatin1(field.Value);
            writer.Write("\r\n"u8);
        }

        writer.Write(lines); // checked and framing fields dropped when added (ResponseHeaders)

        if (ContentLength is { } length && StatusCode is not (< 200 or 204))
        {
            writer.Write("Content-Length: "u8);
            writer.WriteNumber(length);
            writer.Write("\r\n"u8);
        }
        else if (_mode == BodyMode.Chunked)
        {
            writer.Write("Transfer-Encoding: chunked\r\n"u8);
        }

        if (StatusCode == 101)
        {
            writer.Write("Connection: Upgrade\r\n"u8);
        }
        else
        {
            if (!KeepAlive)
            {
                writer.Write("Connection: close\r\n"u8);
            }
            else if (_version == HttpVersion.Http10)
            {
                writer.Write("Connection: keep-alive\r\n"u8);
            }
        }

        writer.Write("\r\n"u8);
        _output.Advance(writer.Written);
    }

    /// <summary>
    /// Bytes of a head besides the reason phrase and the fields' names and values (each field adds
    /// four more, ": " and CRLF): status line, Date, the framing field and Connection, with room over.
    /// </summary>
    private const int HeadOverhead = 160;

    /// <summary>Writes the head into one span sized for it beforehand (<see cref="HeadOverhead"/>).</summary>
    private ref struct HeadWriter(Span<byte> span)
    {
        private readonly Span<byte> _span = span;

        public int Written { get; private set; }

        public void Write(ReadOnlySpan<byte> bytes)
        {
            bytes.CopyTo(_span[Written..]);
            Written += bytes.Length;
        }

        public void WriteLatin1(string text) => Written += Encoding.Latin1.GetBytes(text, _span[Written..]);

        public void WriteNumber(long value)
        {
            Utf8Formatter.TryFormat(value, _span[Written..], out var count);
            Written += count;
        }
    }
}
