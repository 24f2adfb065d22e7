using System.Buffers;
using System.Buffers.Text;
using System.Runtime.CompilerServices;
using Gatehouse.Http1;
using Gatehouse.Wire.Async;

namespace Gatehouse.Proxy;

/// <summary>Steps 2 and 3: the request head and body, upstream-bound.</summary>
internal sealed partial class ForwardOperation
{
    private static readonly byte[] LastChunk = "0\r\n\r\n"u8.ToArray();

    private enum PumpOutcome
    {
        Completed,
        UpstreamWriteFailed,
        ClientBodyInvalid,
        ClientGone,
    }

    /// <summary>Writes the head and the body in hand (or its first piece) in one write.</summary>
    /// <remarks>
    /// Not an async method: the write nearly always completes at once, and a state machine per
    /// request (two, with <see cref="WriteAsync"/>'s) cost more than the write's bookkeeping (issue 22).
    /// </remarks>
    private ValueTask SendHeadAsync(UpstreamConnection connection, IdleDeadline deadline)
    {
        var head = connection.HeadWriter.Begin(_buffers);
        ValueTask write;
        try
        {
            WriteHead(head, connection.Node);
            if (_firstPieceLength > 0)
            {
                if (SendChunked)
                {
                    head.Ascii(FrameChunk(_firstPieceLength, out _).Span);
                }
                else
                {
                    head.Ascii(_buffer.AsSpan(ChunkHeadRoom, _firstPieceLength));
                }
            }

            write = WriteAsync(connection, head.Written, deadline);
        }
        catch
        {
            head.Dispose();
            throw;
        }

        if (!write.IsCompleted)
        {
            return DisposeAfterAsync(write, head);
        }

        try
        {
            write.GetAwaiter().GetResult();
        }
        finally
        {
            head.Dispose();
        }

        return default;
    }

    /// <summary>The head's buffer goes back (cleared: it held the injected credential) once its write ends.</summary>
    private static async ValueTask DisposeAfterAsync(ValueTask write, RequestHeadWriter head)
    {
        try
        {
            await write.ConfigureAwait(false);
        }
        finally
        {
            head.Dispose();
        }
    }

    private void WriteHead(RequestHeadWriter head, UpstreamNode node)
    {
        head.RequestLine(Request.Method, node.BasePath, _plan.Target);

        // RFC 9110 §7.2: Host is the upstream's own authority, never the client's.
        head.Field("Host", node.Authority);
        var connectionTokens = ForwardedHeaders.ConnectionTokens(Request.Headers);
        foreach (var field in Request.Headers)
        {
            if (ForwardedHeaders.IsRequestFieldForwarded(field.Name, connectionTokens, _plan.AddHeaders, _plan.RemoveHeaders, _plan.AllowUnderscoreHeaders, _plan.PassCredentials))
            {
                head.Field(field.Name, field.Value);
            }
        }

        WriteUpgradeFields(head);

        if (SendChunked)
        {
            head.Field("Transfer-Encoding", "chunked");
        }
        else if (Request.Framing != BodyFraming.None)
        {
            head.Field("Content-Length", Request.Framing == BodyFraming.ContentLength ? Request.ContentLength : _firstPieceLength);
        }

        head.Field("X-Forwarded-For", _exchange.RemoteAddress);
        head.Field("X-Forwarded-Proto", _exchange.Connection.IsTls ? "https" : "http");
        head.Field("Via", "1.1 gatehouse"); // RFC 9110 §7.6.3
        var added = _plan.AddHeaders;
        for (var i = 0; i < added.Count; i++)
        {
            head.Field(added[i].Key, added[i].Value);
        }

        head.EndOfHead();
    }

    /// <summary>
    /// Step 3: the rest of the body, piece by piece, with back-pressure both ways (one piece in
    /// flight). A client-side failure aborts the upstream connection, so the answer wait ends too.
    /// Arms the header deadline when the upload is over, however it ended.
    /// </summary>
    private async Task<PumpOutcome> PumpAsync(UpstreamConnection connection, ClientDepartureWatch answerWait)
    {
        // The head's write deadline: the head was written before the pump started, so it is free.
        var deadline = connection.WriteDeadline;
        try
        {
            while (true)
            {
                int read;
                try
                {
                    read = await Body.ReadAsync(_buffer.AsMemory(ChunkHeadRoom, PieceSize), _cancellationToken).ConfigureAwait(false);
                    _bufferUsed = Math.Max(_bufferUsed, ChunkHeadRoom + read);
                }
                catch (RequestRejectedException ex)
                {
                    _bodyError = ex;
                    connection.Abort();
                    return PumpOutcome.ClientBodyInvalid;
                }
                catch (Exception ex) when (IsClientFault(ex) || ex is OperationCanceledException)
                {
                    connection.Abort();
                    return PumpOutcome.ClientGone;
                }

                try
                {
                    if (read == 0)
                    {
                        if (SendChunked)
                        {
                            await WriteAsync(connection, LastChunk, deadline).ConfigureAwait(false);
                        }

                        return PumpOutcome.Completed;
                    }

                    var piece = SendChunked ? FrameChunk(read, out _) : _buffer.AsMemory(ChunkHeadRoom, read);
                    await WriteAsync(connection, piece, deadline).ConfigureAwait(false);
                }
                catch (Exception ex) when (IsUpstreamFault(ex))
                {
                    return PumpOutcome.UpstreamWriteFailed;
                }
            }
        }
        finally
        {
            answerWait.ArmAfter(_options.ResponseHeaderTimeout);
        }
    }

    /// <summary>Frames <c>_buffer[ChunkHeadRoom..+length]</c> as one chunk in place (RFC 9112 §7.1).</summary>
    private ReadOnlyMemory<byte> FrameChunk(int length, out int start)
    {
        Span<byte> size = stackalloc byte[8];
        Utf8Formatter.TryFormat((uint)length, size, out var digits, new StandardFormat('X'));
        start = ChunkHeadRoom - digits - 2;
        size[..digits].CopyTo(_buffer.AsSpan(start));
        _buffer[ChunkHeadRoom - 2] = (byte)'\r';
        _buffer[ChunkHeadRoom - 1] = (byte)'\n';
        _buffer[ChunkHeadRoom + length] = (byte)'\r';
        _buffer[ChunkHeadRoom + length + 1] = (byte)'\n';
        _bufferUsed = Math.Max(_bufferUsed, ChunkHeadRoom + length + ChunkTailRoom);
        return _buffer.AsMemory(start, ChunkHeadRoom - start + length + ChunkTailRoom);
    }

    /// <summary>A write that stalls longer than the idle timeout fails (the upstream stopped reading).</summary>
    private ValueTask WriteAsync(UpstreamConnection connection, ReadOnlyMemory<byte> bytes, IdleDeadline deadline)
    {
        // A send to a keep-alive upstream almost always completes at once: the countdown starts only if it waits.
        var pending = connection.Stream.WriteAsync(bytes, deadline.Unarmed());
        if (pending.IsCompletedSuccessfully)
        {
            pending.GetAwaiter().GetResult(); // gives a pooled source back
            return default;
        }

        return WaitForWriteAsync(pending, deadline);
    }

    // Awaited only when a send waits: a pooled box instead of a new one each time.
    [AsyncMethodBuilder(typeof(PooledValueTaskMethodBuilder))]
    private async ValueTask WaitForWriteAsync(ValueTask pending, IdleDeadline deadline)
    {
        deadline.ArmPending(_options.IdleTimeout);
        try
        {
            await pending.ConfigureAwait(false);
        }
        finally
        {
            deadline.Disarm();
        }
    }
}
