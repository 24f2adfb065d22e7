using System.Buffers;
using System.Diagnostics;
using System.IO.Pipelines;
using System.Net.Sockets;
using System.Text;
using Gatehouse.Http1;
using Microsoft.Extensions.Logging;
using System.Runtime.CompilerServices;
using Gatehouse.Wire.Async;

namespace Gatehouse.Proxy;

/// <summary>Steps 3 to 6: waiting for the answer, relaying it, and deciding the connection's fate.</summary>
internal sealed partial class ForwardOperation
{
    private static ReadOnlySpan<byte> EventStream => "text/event-stream"u8;

    /// <summary>Some byte of an answer arrived on this attempt: a replay could repeat a side effect.</summary>
    private bool _responseBytesSeen;

    /// <summary>One attempt on <paramref name="connection"/>. Null asks for a retry on a fresh connection.</summary>
    // Awaited once per request on the hot path: a pooled box instead of a new one each time.
    [AsyncMethodBuilder(typeof(PooledValueTaskMethodBuilder<>))]
    private async ValueTask<ForwardResult?> ExchangeAsync(UpstreamConnection connection, bool mayRetry)
    {
        var headDeadline = connection.AnswerDeadline;
        var writeDeadline = connection.WriteDeadline;
        headDeadline.Attach(_cancellationToken);
        writeDeadline.Attach(_cancellationToken);
        Task<PumpOutcome>? pump = null;
        var reusable = false;
        _responseBytesSeen = false;
        try
        {
            _exchange.UpstreamStartedTimestamp = Stopwatch.GetTimestamp();
            _exchange.UpstreamFirstByteTimestamp = 0;
            try
            {
                await SendHeadAsync(connection, writeDeadline).ConfigureAwait(false);
            }
            catch (Exception ex) when (IsUpstreamFault(ex))
            {
                connection.Abort();
                return await FailedBeforeResponseAsync(connection, ex, mayRetry, writeDeadline.Expired).ConfigureAwait(false);
            }

            // Linked and watched before the pump starts: the pump arms the answer's deadline from its
            // own thread when the upload ends. With the whole body sent, nothing else would notice the
            // client leaving while the upstream thinks: the watch polls it then.
            var answerToken = headDeadline.Waiting();
            var watch = connection.DepartureWatch;
            watch.Start(_bodyInHand ? _exchange.Connection.Socket : null, headDeadline);
            if (_bodyInHand)
            {
                watch.ArmAfter(_options.ResponseHeaderTimeout);
            }
            else
            {
                pump = PumpAsync(connection, watch);
            }

            UpstreamResponseHead? head;
            try
            {
                // Heads are read here, not in a method of its own: each async layer a forward passes is
                // one more state machine resumed when the answer comes (issue 22). 1xx interim answers
                // are dropped (Expect is never forwarded).
                do
                {
                    if (!connection.Reader.TryRead(out var read))
                    {
                        if (connection.IsPlainTcp)
                        {
                            // Wait on the stream itself (a zero-byte read: the socket's awaitable is reused, no
                            // allocation; under load it reads the answer ahead, see ReadAheadSocketStream), so the
                            // pipe's read below finds the bytes there and completes at once: a pipe read that has to
                            // wait parks the runtime's async box for it, which 32 connections waiting at once made
                            // a new allocation nearly every time (issue 9). A TLS upstream may hold bytes the socket
                            // no longer shows, so it waits through the pipe.
                            try
                            {
                                await connection.Stream.ReadAsync(Memory<byte>.Empty, answerToken).ConfigureAwait(false);
                            }
                            catch (IOException)
                            {
                                // The pipe's read reports it, as every upstream read error is reported.
                            }
                        }

                        read = await connection.Reader.ReadAsync(answerToken).ConfigureAwait(false);
                    }

                    head = FinalHead(connection, read);
                }
                while (head is null);
            }
            catch (Exception ex) when (watch.ClientGone && ex is OperationCanceledException)
            {
                connection.Abort();
                ProxyLog.ClientLeftBeforeAnswer(_logger, _exchange.RemoteEndPoint, connection.Node, Request.Method, Request.Target.Path);
                return ClientGone(ex);
            }
            catch (Exception ex) when (IsUpstreamFault(ex))
            {
                connection.Abort();
                var outcome = pump is null ? PumpOutcome.Completed : await pump.ConfigureAwait(false);
                if (outcome is PumpOutcome.ClientBodyInvalid or PumpOutcome.ClientGone)
                {
                    return await ClientBodyFailedAsync(outcome == PumpOutcome.ClientGone ? ForwardResult.ClientGone : ForwardResult.RequestBodyInvalid).ConfigureAwait(false);
                }

                var timedOut = headDeadline.Expired;
                return await FailedBeforeResponseAsync(connection, ex, mayRetry, timedOut).ConfigureAwait(false);
            }
            finally
            {
                watch.Stop();
            }

            if (head.StatusCode == 101)
            {
                return await TunnelAsync(connection, head).ConfigureAwait(false); // never reusable: finally aborts it
            }

            var (result, released) = await RelayAsync(connection, head, pump).ConfigureAwait(false);
            reusable = released;
            return result;
        }
        finally
        {
            _exchange.UpstreamEndedTimestamp = Stopwatch.GetTimestamp();
            if (reusable)
            {
                // RelayAsync already gave it back to the pool (its pump, if any, had completed).
            }
            else
            {
                connection.Abort(); // also ends a pump still writing to it
            }

            if (pump is not null)
            {
                try
                {
                    await pump.ConfigureAwait(false);
                }
                catch (Exception ex) when (ex is IOException or OperationCanceledException or ObjectDisposedException)
                {
                    // Its outcome no longer matters: the exchange is over.
                }
            }

            if (!reusable)
            {
                await _pool.ReleaseAsync(connection, reusable: false).ConfigureAwait(false);
            }
        }
    }

    private async ValueTask<ForwardResult?> FailedBeforeResponseAsync(UpstreamConnection connection, Exception ex, bool mayRetry, bool timedOut)
    {
        if (timedOut)
        {
            ProxyLog.UpstreamTimedOut(_logger, connection.Node, Request.Method, Request.Target.Path);
            return await FailAsync(504, ForwardResult.UpstreamTimeout, "upstream timed out").ConfigureAwait(false);
        }

        if (mayRetry && !_responseBytesSeen && ex is not UpstreamProtocolException)
        {
            return null;
        }

        ProxyLog.UpstreamFailedBeforeAnswer(_logger, connection.Node, Request.Method, Request.Target.Path, ex.Message);
        return await FailAsync(502, ForwardResult.UpstreamFailedBeforeResponse,
            ex is UpstreamProtocolException ? "upstream sent a malformed answer" : "upstream closed the connection").ConfigureAwait(false);
    }

    /// <summary>Step 5 and 6. Returns the result and whether the connection went back to the pool (then it is no longer ours).</summary>
    // Awaited once per request on the hot path: a pooled box instead of a new one each time.
    [AsyncMethodBuilder(typeof(PooledValueTaskMethodBuilder<>))]
    private async ValueTask<(ForwardResult Result, bool Reusable)> RelayAsync(UpstreamConnection connection, UpstreamResponseHead head, Task<PumpOutcome>? pump)
    {
        CopyHead(head);
        var framing = head.FramingFor(Request.IsHead);
        var body = connection.BodyFor(framing, head.ContentLength);
        try
        {
            if (framing is UpstreamFraming.Chunked or UpstreamFraming.UntilClose)
            {
                // A feed's first body byte may be a heartbeat away: the head goes out now.
                await Response.StartAsync(_cancellationToken).ConfigureAwait(false);
            }
        }
        catch (Exception ex) when (IsClientFault(ex))
        {
            return (ClientGone(ex), false);
        }

        bool copied;
        try
        {
            // Most small answers bring their whole body with the head: copied, nothing to wait for.
            copied = framing == UpstreamFraming.ContentLength && TryCopyBufferedBody(body);
        }
        catch (Exception ex) when (IsUpstreamFault(ex))
        {
            await FailedMidResponseAsync(connection, ex, timedOut: false, pump).ConfigureAwait(false);
            throw; // not reached: FailedMidResponseAsync throws
        }

        if (!copied && framing != UpstreamFraming.None)
        {
            var idle = connection.BodyDeadline;
            idle.Attach(_cancellationToken);
            var feed = framing is UpstreamFraming.Chunked or UpstreamFraming.UntilClose && (_plan.IsFeed || IsEventStream(head));
            // A feed's read wakes up when the drain begins (the deadline fires), to end the feed then.
            using var stopping = feed ? _exchange.Stopping.UnsafeRegister(static deadline => ((IdleDeadline)deadline!).Cancel(), idle) : default;
            try
            {
                if (await CopyBodyAsync(connection, body, idle, pump, feed).ConfigureAwait(false) is { } gone)
                {
                    return (gone, false);
                }
            }
            finally
            {
                idle.Detach();
            }
        }

        // The upstream side is done: a clean connection goes back to the pool before the client's
        // last bytes leave, so the client's next request finds it there.
        var reusable = !head.Close
            && framing != UpstreamFraming.UntilClose
            && body.IsComplete
            && (pump is null || (pump.IsCompletedSuccessfully && pump.Result == PumpOutcome.Completed))
            && !connection.HasUnreadBytes();
        if (reusable)
        {
            connection.CompletedExchanges++;
            connection.EndForward(); // before the pool may hand it (and its deadlines) to the next forward
            await _pool.ReleaseAsync(connection, reusable: true).ConfigureAwait(false);
        }

        try
        {
            await Response.CompleteAsync(_cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (IsClientFault(ex))
        {
            return (ClientGone(ex), reusable);
        }

        return (ForwardResult.Completed, reusable);
    }

    /// <summary>
    /// A small body the upstream reader already holds whole goes into the client's buffer here, with no
    /// read, deadline or watch to set up, and no state machine of <see cref="CopyBodyAsync"/>'s (issue 22).
    /// </summary>
    private bool TryCopyBufferedBody(UpstreamBody body)
    {
        var owed = body.BytesOwed;
        if (owed > PieceSize || !body.TryReadRest(Response.GetMemory((int)owed).Span))
        {
            return false;
        }

        Response.Advance((int)owed);
        return true;
    }

    /// <summary>Step 5's body: piece by piece into the client's buffers. Null when the body ended; the result when the client left.</summary>
    // Awaited once per request on the hot path: a pooled box instead of a new one each time.
    [AsyncMethodBuilder(typeof(PooledValueTaskMethodBuilder<>))]
    private async ValueTask<ForwardResult?> CopyBodyAsync(UpstreamConnection connection, UpstreamBody body, IdleDeadline idle, Task<PumpOutcome>? pump, bool feed)
    {
        while (true)
        {
            // Asking for no more than the body still owes keeps a small answer in the buffer
            // segment that already holds its head: one flush, one TLS record, one send. A
            // fixed 32 KiB ask opened a second segment, and the pipe writes each on its own.
            var memory = Response.GetMemory((int)Math.Min(PieceSize, body.BytesOwed));
            int read;
            ClientDepartureWatch? watch = null;
            try
            {
                var deadline = idle.Unarmed();
                // Looked at after taking the token: a drain that fired before was dropped with the old deadline.
                if (feed && _exchange.Stopping.IsCancellationRequested)
                {
                    return EndFeed(connection);
                }

                var pending = body.ReadAsync(memory, deadline);
                if (!pending.IsCompleted)
                {
                    // Bytes already buffered never pay for the deadline's timer, nor for the watch's.
                    idle.ArmPending(_options.IdleTimeout);
                    if (pump is null || pump.IsCompleted)
                    {
                        // A quiet upstream (a longpoll, a feed between heartbeats) would hold this
                        // connection for a client that left until its next byte (issue 18): watch the
                        // client while waiting.
                        watch = connection.DepartureWatch;
                        watch.Start(_exchange.Connection.Socket, idle);
                    }
                }

                read = await pending.ConfigureAwait(false);
            }
            catch (Exception ex) when (watch is { ClientGone: true } && ex is OperationCanceledException)
            {
                connection.Abort();
                ProxyLog.ClientLeftMidAnswer(_logger, _exchange.RemoteEndPoint, connection.Node, Request.Method, Request.Target.Path);
                return ClientGone(ex);
            }
            catch (Exception ex) when (feed && _exchange.Stopping.IsCancellationRequested && IsUpstreamFault(ex))
            {
                return EndFeed(connection);
            }
            catch (Exception ex) when (IsUpstreamFault(ex))
            {
                await FailedMidResponseAsync(connection, ex, idle.Expired, pump).ConfigureAwait(false);
                throw; // not reached: FailedMidResponseAsync throws
            }
            finally
            {
                watch?.Stop();
                idle.Disarm();
            }

            if (read == 0)
            {
                return null;
            }

            Response.Advance(read);
            if (body.IsComplete)
            {
                return null; // the final flush comes after the connection is back in the pool
            }

            try
            {
                // One flush per piece: continuous _changes lines and heartbeats pass at once,
                // and the client's pace becomes the upstream's (back-pressure).
                await Response.FlushAsync(_cancellationToken).ConfigureAwait(false);
            }
            catch (Exception ex) when (IsClientFault(ex))
            {
                return ClientGone(ex);
            }
        }
    }

    /// <summary>
    /// The server is stopping and this answer is a feed: it ends here, and the caller's completion
    /// writes the last chunk, so the client sees a clean end and reconnects (to this gateway once it
    /// is back, or another). The upstream connection, mid-answer, is closed.
    /// </summary>
    private ForwardResult? EndFeed(UpstreamConnection connection)
    {
        connection.Abort();
        Response.KeepAlive = false;
        ProxyLog.FeedEndedByStop(_logger, Request.Method, Request.Target.Path);
        return null;
    }

    private static bool IsEventStream(UpstreamResponseHead head)
    {
        for (var i = 0; i < head.FieldCount; i++)
        {
            if (Ascii.EqualsIgnoreCase(head.FieldName(i), KnownHeaderNames.ContentType))
            {
                var value = head.FieldValue(i);
                return value.Length >= EventStream.Length && Ascii.EqualsIgnoreCase(value[..EventStream.Length], EventStream);
            }
        }

        return false;
    }

    /// <summary>The answer began and cannot be finished: close the client connection (issue 3).</summary>
    private async ValueTask FailedMidResponseAsync(UpstreamConnection connection, Exception ex, bool timedOut, Task<PumpOutcome>? pump)
    {
        connection.Abort();
        Response.KeepAlive = false;
        var result = ForwardResult.UpstreamFailedMidResponse;
        if (pump is not null)
        {
            var outcome = await pump.ConfigureAwait(false);
            if (outcome is PumpOutcome.ClientBodyInvalid or PumpOutcome.ClientGone)
            {
                // The pump aborted the upstream because the client's body broke: name the right side.
                result = outcome == PumpOutcome.ClientGone ? ForwardResult.ClientGone : ForwardResult.RequestBodyInvalid;
            }
        }

        ProxyLog.AnswerCutOff(_logger, Request.Method, Request.Target.Path, result, timedOut ? "upstream idle timeout" : ex.Message);
        throw new ForwardAbortedException(result, "the upstream answer was cut off", ex);
    }

    private void CopyHead(UpstreamResponseHead head)
    {
        Response.StatusCode = head.StatusCode;
        string? via = null;
        var rewrite = _plan.RewriteResponseField;
        for (var i = 0; i < head.FieldCount; i++)
        {
            var name = head.FieldName(i);
            if (!ForwardedHeaders.IsResponseFieldForwarded(name, head.ConnectionTokens))
            {
                continue;
            }

            if (Ascii.EqualsIgnoreCase(name, "Via"u8))
            {
                var value = Encoding.Latin1.GetString(head.FieldValue(i));
                via = via is null ? value : via + ", " + value;
                continue;
            }

            if (rewrite is not null && IsRewritten(name))
            {
                var fieldName = Encoding.Latin1.GetString(name);
                Response.Headers.Add(fieldName, rewrite(_exchange, fieldName, Encoding.Latin1.GetString(head.FieldValue(i))));
                continue;
            }

            // As the bytes came (the upstream grammar checked them; the response checks them again).
            Response.Headers.Add(name, head.FieldValue(i));
        }

        // RFC 9110 §7.6.3: each intermediary appends itself to Via.
        Response.Headers.Add("Via", via is null ? "1.1 gatehouse" : via + ", 1.1 gatehouse");
        if (head.ContentLength >= 0 && head.StatusCode != 204)
        {
            Response.ContentLength = head.ContentLength;
        }
    }

    private bool IsRewritten(ReadOnlySpan<byte> name)
    {
        if (_plan.RewrittenResponseFields is not { } names)
        {
            return true;
        }

        for (var i = 0; i < names.Count; i++)
        {
            if (Ascii.EqualsIgnoreCase(name, names[i]))
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>
    /// The final head, once <paramref name="result"/> completes one; null when more bytes are needed or
    /// the head was a 1xx interim answer (dropped: Expect is never forwarded). A 101 is final only
    /// when an Upgrade was sent (the tunnel starts, ForwardOperation.Tunnel.cs).
    /// </summary>
    private UpstreamResponseHead? FinalHead(UpstreamConnection connection, ReadResult result)
    {
        if (!TryTakeHead(connection, result))
        {
            return null;
        }

        var head = connection.ResponseHead;
        if (head.StatusCode == 101)
        {
            if (UpgradeSent)
            {
                return head;
            }

            UpstreamProtocolException.Throw("unexpected 101 from upstream"); // no Upgrade was sent
        }

        return head.IsInterim ? null : head;
    }

    /// <summary>
    /// Parses a whole head from what was read into the connection's head and consumes it; false
    /// when more bytes are needed. Throws when the read was cancelled or the upstream closed first.
    /// </summary>
    private bool TryTakeHead(UpstreamConnection connection, ReadResult result)
    {
        var buffer = result.Buffer;
        if (!_responseBytesSeen && !buffer.IsEmpty)
        {
            _responseBytesSeen = true;
            _exchange.UpstreamFirstByteTimestamp = Stopwatch.GetTimestamp();
        }

        var sequence = new SequenceReader<byte>(buffer);
        var done = false;
        try
        {
            done = ResponseHeadParser.TryParse(ref sequence, connection.ResponseHead);
        }
        finally
        {
            connection.Reader.AdvanceTo(done ? sequence.Position : buffer.Start, done ? sequence.Position : buffer.End);
        }

        if (done)
        {
            return true;
        }

        if (result.IsCanceled)
        {
            throw new OperationCanceledException("upstream read canceled");
        }

        if (result.IsCompleted)
        {
            throw buffer.IsEmpty
                ? new IOException("upstream closed the connection before answering")
                : new UpstreamProtocolException("upstream closed inside its response head");
        }

        return false;
    }
}
