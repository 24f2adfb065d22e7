using System.IO.Pipelines;
using System.Buffers;
using Gatehouse.Wire;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using System.Runtime.CompilerServices;
using Gatehouse.Wire.Async;

namespace Gatehouse.Http1;

/// <summary>
/// The HTTP/1.1 loop of one connection:
/// 1. wait for a request head (keep-alive timeout while idle, header timeout once bytes arrive);
/// 2. parse it once into a canonical <see cref="Request"/> (malformed: error answer, then close);
/// 3. hand it with its body and response to the handler;
/// 4. finish the response, drain what is left of the body (bounded), and go again while
///    both sides want keep-alive. Pipelined requests are served in order from the same buffer.
/// </summary>
public sealed class Http1Connection
{
    // Unread body bytes we are willing to swallow to keep a connection; beyond this we close.
    private const long MaxDrainBytes = 256 * 1024;

    /// <summary>A wait for the next request shorter than this counts as back to back (see <see cref="StaysWarm"/>).</summary>
    internal const long BackToBackMs = 1000;

    /// <summary>An exchange that read and wrote no more body than this each way is small (see <see cref="StaysWarm"/>).</summary>
    internal const long SmallExchangeBytes = 4096;

    private readonly WireConnection _connection;
    private readonly IRequestHandler _handler;
    private readonly Http1Limits _limits;
    private readonly ILogger _logger;
    private readonly ExchangePartsPool _partsPool;
    private volatile bool _waitingForRequest;
    private bool _lingerOnClose;
    private bool _lastExchangeSmall; // the request just served and its answer were small (ServeAsync)
    private string? _remoteAddress; // text of the client's address, made once for all its requests
    private ConnectionInput? _input;

    private Http1Connection(WireConnection connection, IRequestHandler handler, Http1Limits limits, ILogger logger, ExchangePartsPool partsPool)
    {
        _connection = connection;
        _handler = handler;
        _limits = limits;
        _logger = logger;
        _partsPool = partsPool;
    }

    /// <summary>The Wire-level handler that speaks HTTP/1.1 on every accepted connection.</summary>
    public static ConnectionHandler CreateHandler(IRequestHandler handler, Http1Limits limits, ILogger? logger = null) =>
        CreateHandler(handler, limits, new ExchangePartsPool(limits), logger);

    /// <summary>As above, with the pool given so a test can see when a connection has handed its parts back.</summary>
    internal static ConnectionHandler CreateHandler(IRequestHandler handler, Http1Limits limits, ExchangePartsPool partsPool, ILogger? logger = null)
    {
        var log = logger ?? NullLogger.Instance;
        return (connection, stopping) => new Http1Connection(connection, handler, limits, log, partsPool).RunAsync(stopping);
    }

    private async Task RunAsync(CancellationToken stopping)
    {
        var stream = _connection.Stream;
        var memory = _connection.Buffers.Memory;
        // Only with nothing between the writer and the socket may a response write to the socket itself (sendfile).
        var plainSocket = _connection.IsTls ? null : _connection.Socket;
        using var input = new ConnectionInput(reader: null, stream, _connection.Socket);
        _input = input;
        // A static callback with this as its state: no closure and delegate held by every idle connection.
        using var stopRegistration = stopping.UnsafeRegister(static state => ((Http1Connection)state!).OnStopping(), this);

        ExchangeParts? parts = null; // held only while a request is in flight (see ExchangeParts)
        ConnectionPipes? pipes = null; // with the parts, but returned only clean (see ConnectionPipes)
        HttpResponse? response = null;
        Exception? failure = null;
        long lastWaitMs = long.MaxValue; // how long the request just served was waited for
        try
        {
            for (var served = 0; served < _limits.MaxRequestsPerConnection && !stopping.IsCancellationRequested; served++)
            {
                response = null;
                var waitMs = 0L;
                var idleDeadline = ConnectionInput.DeadlineAfter(served == 0 ? _limits.HeaderTimeout : _limits.KeepAliveTimeout);
                // Between requests with nothing buffered (no pipelined request waiting), park the
                // parts with the pipes and wait on the stream itself, here in this frame: an idle
                // connection then holds no parts, no pipes and no state machine but this one. One
                // in a run of small back-to-back requests keeps them (StaysWarm).
                if (input.CanWaitOnStream && (pipes is null || input.IsDrained()))
                {
                    var warm = StaysWarm(served, lastWaitMs, _lastExchangeSmall);
                    if (!warm && parts is not null && pipes is not null && !input.SawEnd && pipes.Writer.UnflushedBytes == 0)
                    {
                        input.Detach();
                        pipes.Unbind();
                        parts.Pipes = pipes;
                        pipes = null;
                        _partsPool.Return(parts);
                        parts = null;
                    }

                    // Even a small answer's records would stay in the TLS buffers for the whole idle time.
                    if (served > 0 && !warm)
                    {
                        _connection.TrimIdleBuffers();
                    }

                    var waitStarted = DeadlineSweep.Now;

                    Exception? waitError = null;
                    _waitingForRequest = true;
                    try
                    {
                        if (stopping.IsCancellationRequested)
                        {
                            break; // stopped before this wait began: OnStopping found nothing to end
                        }

                        await input.StartWaitForBytes(idleDeadline).ConfigureAwait(false);
                    }
                    catch (Exception ex)
                    {
                        waitError = ex;
                    }
                    finally
                    {
                        _waitingForRequest = false;
                    }

                    input.FinishWaitForBytes(waitError);
                    waitMs = DeadlineSweep.Now - waitStarted;
                }

                lastWaitMs = waitMs;

                parts ??= _partsPool.Rent();
                if (pipes is null)
                {
                    pipes = parts.TakePipes(memory) ?? new ConnectionPipes(memory);
                    pipes.Bind(stream);
                    input.Attach(pipes.Reader);
                }

                var request = await ReadRequestAsync(input, parts.Parser, idleDeadline, stopping).ConfigureAwait(false);
                if (request is null)
                {
                    break;
                }

                var keepAlive = request.KeepAlive && served + 1 < _limits.MaxRequestsPerConnection;
                response = parts.ResponseFor(request, keepAlive, pipes.Writer, plainSocket).CloseWhen(stopping);
                if (!await ServeAsync(request, input, pipes.Writer, response, parts, stopping).ConfigureAwait(false))
                {
                    break;
                }
            }
        }
        catch (RequestRejectedException rejected)
        {
            _lingerOnClose = true;
            HttpMetrics.Refusals.Add(1, new KeyValuePair<string, object?>("reason", rejected.Reason.ToString()));
            Http1Log.RequestRefused(_logger, _connection.RemoteEndPoint, rejected.Message);
            if (pipes is not null)
            {
                await TrySendRejectionAsync(pipes.Writer, response, parts?.Parser.IsHead == true, rejected.StatusCode, rejected.Message).ConfigureAwait(false);
            }
        }
        catch (TimeoutException)
        {
            // Only a request that had started earns a 408; an idle keep-alive connection just closes.
            if (parts?.Parser.HasStarted == true && pipes is not null)
            {
                Http1Log.HeaderTimeout(_logger, _connection.RemoteEndPoint);
                await TrySendRejectionAsync(pipes.Writer, response, parts.Parser.IsHead, 408, RejectReasons.Text(RejectReason.HeaderTimeout)).ConfigureAwait(false);
            }
        }
        catch (Exception ex) when (ex is IOException or OperationCanceledException or ObjectDisposedException)
        {
            Http1Log.ConnectionEnded(_logger, _connection.RemoteEndPoint, ex.Message);
            failure = ex;
        }
        finally
        {
            if (pipes is not null)
            {
                // Completed pipes serve no other connection: they go with this one.
                await CompletePipesAsync(pipes.Reader, pipes.Writer, failure).ConfigureAwait(false);
                input.Detach();
            }

            if (parts is not null)
            {
                // Every request of this connection has ended (its handler returned): nothing uses them.
                _partsPool.Return(parts);
            }
        }

        if (_lingerOnClose)
        {
            await LingeringClose.RunAsync(_connection).ConfigureAwait(false);
        }
    }

    /// <summary>
    /// Whether a connection about to wait stays warm: keeps its TLS buffers, its request parts and its
    /// pipes instead of giving them back. Only when it has just answered a small request that came back
    /// to back with the one before (its second request or later). Giving back and regrowing OpenSSL's two
    /// memory BIOs around every request took about 1% of the gateway's profile samples on a proxied GET
    /// (issue 22), and parked parts came back as another connection's set, cold in the cache (about 2%).
    /// A connection that serves one request and idles (the many-idle case, issue 9) and one that carried
    /// a big body still give them back, and a warm one gives them back after its next request that follows
    /// a pause. What a warm connection holds while it idles, until its next request or its keep-alive
    /// timeout, is the last small exchange's records (about 1 KiB) and one set of parts and pipes (about
    /// 2 KiB, their blocks returned).
    /// </summary>
    internal static bool StaysWarm(int served, long lastWaitMs, bool lastExchangeSmall) =>
        served > 1 && lastWaitMs < BackToBackMs && lastExchangeSmall;

    /// <summary>
    /// Completing a StreamPipeWriter flushes what it still holds; when that write fails (the client
    /// reset or left) it keeps its blocks, which then never return to the pool, and the reader after
    /// it is never completed either (issue 10's abort matrix found both). So flush first, and on any
    /// failure complete with the error, which returns every block without writing.
    /// </summary>
    private async ValueTask CompletePipesAsync(PipeReader reader, PipeWriter writer, Exception? failure)
    {
        try
        {
            if (failure is null)
            {
                try
                {
                    // A cancelled last flush wrote nothing; completing without an error would then
                    // write the rest in CompleteAsync, which keeps its blocks if that write fails.
                    if ((await writer.FlushAsync().ConfigureAwait(false)).IsCanceled)
                    {
                        failure = new OperationCanceledException("the last flush was cancelled");
                    }
                }
                catch (Exception ex) when (ex is IOException or OperationCanceledException or ObjectDisposedException or InvalidOperationException)
                {
                    Http1Log.FlushFailed(_logger, _connection.RemoteEndPoint, ex.Message);
                    failure = ex;
                }
            }

            await writer.CompleteAsync(failure).ConfigureAwait(false);
        }
        finally
        {
            await reader.CompleteAsync(failure).ConfigureAwait(false);
        }
    }

    /// <summary>A server stopping ends the wait of a connection that is between requests; one inside a request finishes it.</summary>
    private void OnStopping()
    {
        if (_waitingForRequest)
        {
            _input?.Interrupt();
        }
    }

    /// <summary>
    /// Reads and parses the next request head: until <paramref name="idleDeadline"/> for its first
    /// byte, then within the header timeout. Null when the client or the server ended the connection.
    /// </summary>
    // Awaited once per request on the hot path: a pooled box instead of a new one each time.
    [AsyncMethodBuilder(typeof(PooledValueTaskMethodBuilder<>))]
    private async ValueTask<Request?> ReadRequestAsync(ConnectionInput input, RequestHeadParser parser, long idleDeadline, CancellationToken stopping)
    {
        parser.Reset();
        var headerDeadline = long.MaxValue; // set when the request's first bytes are in
        while (true)
        {
            var deadline = headerDeadline != long.MaxValue ? headerDeadline : idleDeadline;
            _waitingForRequest = !parser.HasStarted;
            ReadResult result;
            try
            {
                if (_waitingForRequest && stopping.IsCancellationRequested)
                {
                    return null; // stopped before this wait began: OnStopping found nothing to end
                }

                result = await input.ReadBeforeAsync(deadline).ConfigureAwait(false);
            }
            finally
            {
                _waitingForRequest = false;
            }

            if (result.IsCanceled)
            {
                return null; // shutting down while idle
            }

            var buffer = result.Buffer;
            if (!buffer.IsEmpty && headerDeadline == long.MaxValue)
            {
                headerDeadline = ConnectionInput.DeadlineAfter(_limits.HeaderTimeout);
            }

            var sequenceReader = new SequenceReader<byte>(buffer);
            var done = false;
            Request? request = null;
            try
            {
                done = parser.TryParse(ref sequenceReader, out request);
            }
            finally
            {
                input.Reader.AdvanceTo(sequenceReader.Position, done ? sequenceReader.Position : buffer.End);
            }

            if (done)
            {
                return request;
            }

            if (result.IsCompleted)
            {
                if (parser.HasStarted || !sequenceReader.End)
                {
                    Http1Log.ClosedInsideHead(_logger, _connection.RemoteEndPoint);
                }

                return null;
            }
        }
    }

    /// <summary>Serves one request. Returns whether the connection may carry another.</summary>
    // Awaited once per request on the hot path: a pooled box instead of a new one each time.
    [AsyncMethodBuilder(typeof(PooledValueTaskMethodBuilder<>))]
    private async ValueTask<bool> ServeAsync(Request request, ConnectionInput input, PipeWriter writer, HttpResponse response, ExchangeParts parts, CancellationToken stopping)
    {
        var sendContinue = request.ExpectContinue ? ContinueSender(response, writer) : null;
        FramedBody? body = request.Framing switch
        {
            BodyFraming.ContentLength when request.ContentLength > 0 =>
                new ContentLengthBody(input, request.ContentLength, _limits.BodyIdleTimeout, sendContinue),
            BodyFraming.Chunked =>
                new ChunkedBody(input, _limits.BodyIdleTimeout, _limits.MaxChunkOverheadBytes, _limits.MaxRequestBodyBytes, sendContinue),
            _ => null,
        };

        _remoteAddress ??= _connection.RemoteEndPoint.Address.ToString();
        var exchange = parts.ExchangeFor(request, (RequestBody?)body ?? EmptyBody.Instance, response, _connection, input.Reader, writer, _remoteAddress);
        exchange.Stopping = stopping;
        try
        {
            // The abort token, not stopping: a stop lets the request in hand finish within the
            // grace (the handler sees the drain on exchange.Stopping); only the grace's end cancels it.
            await _handler.HandleAsync(exchange, _connection.Aborted).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is not (RequestRejectedException or IOException or OperationCanceledException))
        {
            Http1Log.HandlerFailed(_logger, ex, request.Method, request.Target.Path);
            if (response.HasStarted)
            {
                throw new IOException("handler failed after the response started", ex);
            }

            response.KeepAlive = false;
            await response.SendErrorAsync(500, "internal error", CancellationToken.None).ConfigureAwait(false);
            return false;
        }

        if (exchange.IsUpgraded)
        {
            return false; // the switched protocol owned the connection and is done with it
        }

        await response.CompleteAsync(CancellationToken.None).ConfigureAwait(false);
        HttpMetrics.Answered(response.StatusCode, exchange.Body.BytesRead, response.BodyBytesWritten);
        _lastExchangeSmall = exchange.Body.BytesRead <= SmallExchangeBytes && response.BodyBytesWritten <= SmallExchangeBytes;
        if (!response.KeepAlive)
        {
            return false;
        }

        if (body is null || body.IsComplete)
        {
            exchange.Forget();
            return true;
        }

        // The handler answered without reading the whole body. A client still waiting for
        // 100 Continue may or may not send it, so the only safe move is to close.
        var drained = !body.ContinuePending && await body.DrainAsync(MaxDrainBytes, _connection.Buffers.Arrays, stopping).ConfigureAwait(false);
        _lingerOnClose = !drained;
        exchange.Forget();
        return drained;
    }

    /// <summary>
    /// Made in its own method: a lambda in <see cref="ServeAsync"/> would allocate its closure on
    /// every request, with or without Expect.
    /// </summary>
    private static Func<ValueTask> ContinueSender(HttpResponse response, PipeWriter writer) =>
        () => response.HasStarted ? ValueTask.CompletedTask : WriteContinueAsync(writer);

    private static async ValueTask WriteContinueAsync(PipeWriter output)
    {
        // RFC 9110 §10.1.1: the interim answer goes out only when the handler first asks for the body.
        "HTTP/1.1 100 Continue\r\n\r\n"u8.CopyTo(output.GetSpan(25));
        output.Advance(25);
        await output.FlushAsync().ConfigureAwait(false);
    }

    private async ValueTask TrySendRejectionAsync(PipeWriter writer, HttpResponse? current, bool isHead, int status, string reason)
    {
        if (current is { HasStarted: true })
        {
            return; // mid-response: closing is the only signal left
        }

        try
        {
            var response = new HttpResponse(writer, HttpVersion.Http11, isHead, keepAlive: false);
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(5));
            await response.SendErrorAsync(status, reason, timeout.Token).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is IOException or OperationCanceledException or ObjectDisposedException)
        {
            Http1Log.RejectionNotSent(_logger, status, _connection.RemoteEndPoint, ex.Message);
        }
    }
}
