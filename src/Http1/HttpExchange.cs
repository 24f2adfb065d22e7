using System.IO.Pipelines;
using System.Net;
using Gatehouse.Wire;

namespace Gatehouse.Http1;

/// <summary>One request and its response on a connection, with who is asking.</summary>
public sealed class HttpExchange
{
    private PipeReader? _reader;
    private PipeWriter? _writer;

    /// <summary>The connection's writer for this request (tests: pooled pipes move between connections).</summary>
    internal PipeWriter? Writer => _writer;
    private string? _remoteAddress;

    internal HttpExchange(Request request, RequestBody body, HttpResponse response, WireConnection connection, PipeReader? reader = null, PipeWriter? writer = null, string? remoteAddress = null)
    {
        _remoteAddress = remoteAddress;
        Request = request;
        Body = body;
        Response = response;
        Connection = connection;
        _reader = reader;
        _writer = writer;
    }

    /// <summary>
    /// Makes this exchange the next request's, on <paramref name="connection"/>: exchanges are pooled
    /// (<see cref="ExchangeParts"/>, issue 9), so handlers must not hold on to one after they return.
    /// </summary>
    internal HttpExchange Restart(Request request, RequestBody body, HttpResponse response, WireConnection connection, PipeReader reader, PipeWriter writer, string remoteAddress)
    {
        Connection = connection;
        _reader = reader;
        _writer = writer;
        _remoteAddress = remoteAddress;
        Request = request;
        Body = body;
        Response = response;
        StartedTimestamp = System.Diagnostics.Stopwatch.GetTimestamp();
        UpstreamStartedTimestamp = 0;
        UpstreamFirstByteTimestamp = 0;
        UpstreamEndedTimestamp = 0;
        IsUpgraded = false;
        return this;
    }

    /// <summary>
    /// Lets go of the finished request while the connection waits for the next (an idle keep-alive
    /// connection holds no request, body or response field); a handler that kept the exchange
    /// would now fail rather than read stale data.
    /// </summary>
    internal void Forget()
    {
        Request = null!;
        Body = EmptyBody.Instance;
        Response.Headers.Clear();
    }

    /// <summary>Lets go of the connection (and the request) while this exchange waits in the pool.</summary>
    internal void Unbind()
    {
        Forget();
        Connection = null!;
        Stopping = default;
        _reader = null;
        _writer = null;
        _remoteAddress = null;
    }

    /// <summary>
    /// What a handler keeps for later requests (the forwarder's operation and plan, issue 9). Neither
    /// restarting, forgetting nor pooling the exchange touches this, and a pooled exchange serves other
    /// connections in turn, so whatever is kept here must be reset by its owner for each request and
    /// must not carry anything of one connection to the next.
    /// </summary>
    public object? ConnectionState { get; set; }

    /// <summary>The handler switched protocols; the connection ends when the handler returns.</summary>
    public bool IsUpgraded { get; private set; }

    /// <summary>
    /// Answers <c>101 Switching Protocols</c> with <see cref="HttpResponse.Headers"/> (the caller
    /// validated the upgrade request and set <c>Upgrade</c> and any protocol headers) and returns
    /// the raw bidirectional stream. Only for a request with <see cref="Request.IsUpgrade"/> and no body.
    /// </summary>
    public async ValueTask<Stream> AcceptUpgradeAsync(CancellationToken cancellationToken = default)
    {
        await SwitchProtocolsAsync(cancellationToken).ConfigureAwait(false);
        return new UpgradedStream(_reader!, _writer!);
    }

    /// <summary>
    /// As <see cref="AcceptUpgradeAsync"/>, for the WebSocket endpoint: every write is one whole
    /// server frame, so small ones may be held and sent together. The caller disposes the stream,
    /// then awaits <see cref="CoalescingUpgradedStream.ReleaseAsync"/> before it returns.
    /// </summary>
    internal async ValueTask<CoalescingUpgradedStream> AcceptFramedUpgradeAsync(CancellationToken cancellationToken)
    {
        await SwitchProtocolsAsync(cancellationToken).ConfigureAwait(false);
        return new CoalescingUpgradedStream(_reader!, _writer!);
    }

    private async ValueTask SwitchProtocolsAsync(CancellationToken cancellationToken)
    {
        if (!Request.IsUpgrade || Request.HasBody || Response.HasStarted || _reader is null || _writer is null)
        {
            throw new InvalidOperationException("this exchange cannot switch protocols");
        }

        Response.StatusCode = 101;
        Response.KeepAlive = false;
        await Response.StartAsync(cancellationToken).ConfigureAwait(false);
        IsUpgraded = true;
    }

    public Request Request { get; private set; }

    /// <summary>
    /// Fires when the server begins to stop (drain). The request in hand goes on; what would never
    /// end by itself (a continuous feed, a WebSocket) should end now, cleanly. The handler's own
    /// token is the abort: it fires only when the shutdown grace is over.
    /// </summary>
    public CancellationToken Stopping { get; internal set; }

    /// <summary>
    /// When a forward of this request sent its head upstream, read the upstream's first answer byte
    /// and finished (<see cref="System.Diagnostics.Stopwatch"/> ticks); 0 when it was not forwarded
    /// or did not get that far. For the access log.
    /// </summary>
    public long UpstreamStartedTimestamp { get; set; }

    /// <inheritdoc cref="UpstreamStartedTimestamp"/>
    public long UpstreamFirstByteTimestamp { get; set; }

    /// <inheritdoc cref="UpstreamStartedTimestamp"/>
    public long UpstreamEndedTimestamp { get; set; }

    /// <summary>When the request head had been parsed (<see cref="System.Diagnostics.Stopwatch"/> ticks), for durations in logs.</summary>
    public long StartedTimestamp { get; private set; } = System.Diagnostics.Stopwatch.GetTimestamp();

    public RequestBody Body { get; private set; }

    public HttpResponse Response { get; private set; }

    public WireConnection Connection { get; private set; }

    /// <summary>The principal proven during the TLS handshake (or Local/Anonymous on plain listeners).</summary>
    public Principal Principal => Connection.Principal;

    public IPEndPoint RemoteEndPoint => Connection.RemoteEndPoint;

    /// <summary>The client's address as text (X-Forwarded-For), made once per connection rather than per request.</summary>
    public string RemoteAddress => _remoteAddress ??= RemoteEndPoint.Address.ToString();
}
