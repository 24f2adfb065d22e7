using System.Buffers;
using System.Net.Sockets;
using Gatehouse.Http1;
using System.Runtime.CompilerServices;
using Microsoft.Extensions.Logging;
using Gatehouse.Wire.Async;

namespace Gatehouse.Proxy;

/// <summary>
/// One forward, step by step:
/// 1. Read the first piece of the request body, if any (this sends the client its 100 Continue;
///    Expect itself is not forwarded). A Content-Length body that fits the buffer is read whole,
///    so the request can be replayed.
/// 2. Lease a connection (pooled first) and write the head — method, the plan's re-serialized
///    target, filtered headers, Host, X-Forwarded-*, Via, the plan's headers — with what body is in hand.
/// 3. Pump the rest of the body on its own task (re-chunked when the client sent chunks), while
///    this task waits for the status line (the header timeout starts when the upload ends).
/// 4. A pooled connection (or any connection, when the pool has several nodes) that fails before
///    any answer byte, for an idempotent request whose body is in hand, is retried once on a fresh
///    connection. Otherwise: 502, or 504 on timeout.
/// 5. Skip 1xx, copy status and end-to-end headers, stream the body with a flush per piece (so
///    feeds and heartbeats pass at once); only silence longer than the idle timeout fails.
/// 6. Return the connection to the pool only after a complete keep-alive answer with nothing
///    unread and the whole body sent; any doubt, and it is closed.
/// One per client connection, restarted for each forward (issue 9): <see cref="RunAsync"/> ends
/// only after everything it started (the body pump, a tunnel, the departure watch) has ended, so
/// nothing can still use it when the connection's next request restarts it.
/// </summary>
internal sealed partial class ForwardOperation
{
    /// <summary>Room before the piece for a chunk-size line ("XXXXXXXX\r\n"), and after it for its CRLF.</summary>
    private const int ChunkHeadRoom = 10;
    private const int ChunkTailRoom = 2;

    /// <summary>The request body's buffer: a power of two, so the pool rents exactly this (32 KiB + 12 took a 64 KiB array).</summary>
    private const int BufferSize = 32 * 1024;

    /// <summary>Body bytes moved per piece, each way.</summary>
    private const int PieceSize = BufferSize - ChunkHeadRoom - ChunkTailRoom;

    // The current forward's, set by Restart; let go of when it ends, so an idle connection holds
    // no route's pool or plan (a reload may retire them).
    private HttpExchange _exchange = null!;
    private UpstreamPool _pool = null!;
    private ForwardPlan _plan = null!;
    private UpstreamOptions _options = null!;
    private ILogger _logger = null!;
    private CancellationToken _cancellationToken;

    /// <summary>The client connection's pool (the server's): the forward's own buffers come from it.</summary>
    private ArrayPool<byte> _buffers = null!;
    private byte[] _buffer = [];
    private int _bufferUsed;

    /// <summary>Body bytes read before the upstream was chosen, at <c>_buffer[ChunkHeadRoom..]</c>.</summary>
    private int _firstPieceLength;

    /// <summary>The whole request body (possibly none) is in hand: the request could be sent again.</summary>
    private bool _bodyInHand;

    private RequestRejectedException? _bodyError;

    /// <summary>The plan the connection's handlers fill (<see cref="Forwarder.PlanFor"/>), kept with the operation that carries it out.</summary>
    public ForwardPlan Plan { get; } = new();

    /// <summary>A forward is under way: a second one on the same exchange at once gets an operation of its own.</summary>
    public bool IsRunning { get; private set; }

    /// <summary>Makes this the next forward's, with every per-forward field back to its start.</summary>
    public ForwardOperation Restart(HttpExchange exchange, UpstreamPool pool, ForwardPlan plan, CancellationToken cancellationToken)
    {
        _exchange = exchange;
        _pool = pool;
        _plan = plan;
        _options = pool.Options;
        _logger = pool.Logger;
        _cancellationToken = cancellationToken;
        _buffers = exchange.Connection.Buffers.Arrays;
        _buffer = [];
        _bufferUsed = 0;
        _firstPieceLength = 0;
        _bodyInHand = false;
        _bodyError = null;
        _responseBytesSeen = false;
        IsRunning = true;
        return this;
    }

    private Request Request => _exchange.Request;

    private HttpResponse Response => _exchange.Response;

    /// <summary>What is sent upstream: the plan's wrapper when it has one, else the client's body.</summary>
    private RequestBody Body => _plan.Body ?? _exchange.Body;

    /// <summary>The client sent chunks: so does the upstream request (no buffering to learn the length).</summary>
    private bool SendChunked => Request.Framing == BodyFraming.Chunked && !_bodyInHand;

    // Awaited once per request on the hot path: a pooled box instead of a new one each time.
    [AsyncMethodBuilder(typeof(PooledValueTaskMethodBuilder<>))]
    public async ValueTask<ForwardResult> RunAsync()
    {
        try
        {
            if (Request.HasBody)
            {
                // Only a body needs the buffer. Rented for every GET, it was held while the forward
                // waited its turn for an upstream connection: at 256 client connections more were out
                // than the shared pool keeps, and each GET allocated a new one (issue 22).
                _buffer = _buffers.Rent(BufferSize);
                if (await ReadFirstPieceAsync().ConfigureAwait(false) is { } failed)
                {
                    return failed;
                }
            }
            else
            {
                _bodyInHand = true;
            }

            for (var attempt = 0; ; attempt++)
            {
                UpstreamConnection connection;
                try
                {
                    connection = await _pool.LeaseAsync(fresh: attempt > 0, retrySafe: IsRetrySafe, _cancellationToken).ConfigureAwait(false);
                }
                catch (UpstreamConnectException ex)
                {
                    ProxyLog.NoUpstream(_logger, Request.Method, Request.Target.Path, ex.InnerException?.Message ?? ex.Message);
                    return ex.TimedOut
                        ? await FailAsync(504, ForwardResult.UpstreamTimeout, "upstream timed out").ConfigureAwait(false)
                        : await FailAsync(502, ForwardResult.UpstreamConnectFailed, ex.ClientReason ?? "upstream unavailable").ConfigureAwait(false);
                }

                // A pooled connection may have gone stale; with several nodes (a CouchDB cluster), a node
                // may have died under a fresh one (issue 18): either way an idempotent request whose
                // answer had not begun is sent once more, on a fresh connection the pool's turn gives.
                var mayRetry = attempt == 0 && _bodyInHand && IsIdempotent(Request.Method)
                    && (connection.CompletedExchanges > 0 || _pool.Nodes.Count > 1);
                var result = await ExchangeAsync(connection, mayRetry).ConfigureAwait(false);
                if (result is { } done)
                {
                    return done;
                }

                ProxyLog.StaleConnectionRetried(_logger, connection.Node, Request.Method);
                ProxyMetrics.Retries.Add(1, new KeyValuePair<string, object?>("upstream", connection.Node.ToString()));
            }
        }
        finally
        {
            if (_buffer.Length > 0)
            {
                // The buffer carried the client's body: clear it before anyone else rents it.
                _buffer.AsSpan(0, _bufferUsed).Clear();
                _buffers.Return(_buffer);
            }
            End();
        }
    }

    /// <summary>Lets go of the forward's exchange, pool, plan and buffer; the operation waits for the connection's next forward.</summary>
    private void End()
    {
        if (ReferenceEquals(_plan, Plan))
        {
            Plan.Reset(); // an idle connection keeps no identity header of its last request
        }

        _exchange = null!;
        _pool = null!;
        _plan = null!;
        _options = null!;
        _logger = null!;
        _cancellationToken = default;
        _buffers = null!;
        _buffer = [];
        _bodyError = null;
        IsRunning = false;
    }

    /// <summary>
    /// A read without a body: always within the retry above (body in hand, idempotent, and any
    /// pooled connection has completed an exchange), so the pool may skip its poll for it. PUT and
    /// DELETE are retried too but keep the poll: a write is not sent on a doubtful connection.
    /// </summary>
    private bool IsRetrySafe =>
        !Request.HasBody && Request.Method is HttpMethods.Get or HttpMethods.Head or HttpMethods.Options;

    /// <summary>RFC 9110 §9.2.2 (the subset a gateway replays; TRACE is not forwarded anyway).</summary>
    private static bool IsIdempotent(string method) =>
        method is HttpMethods.Get or HttpMethods.Head or HttpMethods.Put or HttpMethods.Delete or HttpMethods.Options;

    /// <summary>Step 1. Null when the body may go on; otherwise the result after answering the client.</summary>
    private async ValueTask<ForwardResult?> ReadFirstPieceAsync()
    {
        var wholeFits = Request.Framing == BodyFraming.ContentLength && Request.ContentLength <= PieceSize;
        try
        {
            do
            {
                var read = await Body.ReadAsync(_buffer.AsMemory(ChunkHeadRoom + _firstPieceLength, PieceSize - _firstPieceLength), _cancellationToken).ConfigureAwait(false);
                _firstPieceLength += read;
                _bufferUsed = Math.Max(_bufferUsed, ChunkHeadRoom + _firstPieceLength);
                if (read == 0)
                {
                    break;
                }
            }
            while (wholeFits && !Body.IsComplete);
        }
        catch (RequestRejectedException ex)
        {
            _bodyError = ex;
            return await ClientBodyFailedAsync(ForwardResult.RequestBodyInvalid).ConfigureAwait(false);
        }
        catch (Exception ex) when (IsClientFault(ex))
        {
            return await ClientBodyFailedAsync(ForwardResult.ClientGone).ConfigureAwait(false);
        }

        _bodyInHand = Body.IsComplete;
        return null;
    }

    /// <summary>Answers a failure before the upstream answer began (502/504 JSON) and returns its result.</summary>
    private async ValueTask<ForwardResult> FailAsync(int status, ForwardResult result, string reason)
    {
        if (Response.HasStarted)
        {
            Response.KeepAlive = false;
            throw new ForwardAbortedException(result, reason, null);
        }

        try
        {
            if (_plan.SendError is { } send)
            {
                await send(_exchange, status, reason, _cancellationToken).ConfigureAwait(false);
            }
            else
            {
                await Response.SendErrorAsync(status, reason, _cancellationToken).ConfigureAwait(false);
            }

            return result;
        }
        catch (Exception ex) when (IsClientFault(ex))
        {
            return ClientGone(ex);
        }
    }

    /// <summary>The client's body broke (malformed, stalled) or the client left while sending it.</summary>
    private async ValueTask<ForwardResult> ClientBodyFailedAsync(ForwardResult result)
    {
        Response.KeepAlive = false; // the rest of the body cannot be trusted to frame the next request
        if (result == ForwardResult.RequestBodyInvalid && _bodyError is { } error && !Response.HasStarted)
        {
            ProxyLog.RequestBodyRefused(_logger, _exchange.RemoteEndPoint, error.Message);
            try
            {
                await Response.SendErrorAsync(error.StatusCode, error.Message, _cancellationToken).ConfigureAwait(false);
                return result;
            }
            catch (Exception ex) when (IsClientFault(ex))
            {
                return ClientGone(ex);
            }
        }

        if (!Response.IsCompleted)
        {
            throw new ForwardAbortedException(result, "the client's request body failed", _bodyError);
        }

        return result;
    }

    /// <summary>
    /// The client is gone. Unless its response is already complete, throw: returning would let the
    /// HTTP/1.1 loop finish the response (a final chunk, or an empty 200) as if nothing happened.
    /// </summary>
    private ForwardResult ClientGone(Exception? cause)
    {
        Response.KeepAlive = false;
        _cancellationToken.ThrowIfCancellationRequested();
        if (!Response.IsCompleted)
        {
            throw new ForwardAbortedException(ForwardResult.ClientGone, "the client went away", cause);
        }

        return ForwardResult.ClientGone;
    }

    private bool IsClientFault(Exception ex) =>
        ex is IOException or SocketException or ObjectDisposedException
        || (ex is OperationCanceledException && !_cancellationToken.IsCancellationRequested);

    private bool IsUpstreamFault(Exception ex) =>
        ex is IOException or SocketException or ObjectDisposedException or UpstreamProtocolException
        || (ex is OperationCanceledException && !_cancellationToken.IsCancellationRequested);
}
