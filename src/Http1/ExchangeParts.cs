using System.IO.Pipelines;
using System.Net.Sockets;
using Gatehouse.Wire;

namespace Gatehouse.Http1;

/// <summary>
/// What serving one request takes besides the connection itself: the head parser (with the
/// <see cref="Request"/> and header list it refills), the response writer and the exchange (with
/// whatever a handler keeps in <see cref="HttpExchange.ConnectionState"/>). A connection holds one
/// set only while a request is in flight and gives it back to <see cref="ExchangePartsPool"/> before
/// it waits for the next, so thousands of idle keep-alive connections hold none (issue 9: about
/// 1.6 KiB each), while a busy connection still allocates nothing per request. A connection serving
/// small requests back to back keeps its set through the short waits (Http1Connection.StaysWarm).
/// </summary>
internal sealed class ExchangeParts(Http1Limits limits)
{
    public RequestHeadParser Parser { get; } = new(limits);

    private HttpResponse? _response;
    private HttpExchange? _exchange;

    /// <summary>Clean, unbound pipes parked with these parts (the connection that used them left them so), or null.</summary>
    public ConnectionPipes? Pipes { get; set; }

    /// <summary>The parked pipes, when they are of <paramref name="pool"/> (a server's own); they are then no longer parked here.</summary>
    public ConnectionPipes? TakePipes(System.Buffers.MemoryPool<byte> pool)
    {
        var pipes = Pipes;
        Pipes = null;
        return pipes is not null && ReferenceEquals(pipes.Pool, pool) ? pipes : null;
    }

    /// <summary>The response for <paramref name="request"/>, written to <paramref name="output"/>.</summary>
    public HttpResponse ResponseFor(Request request, bool keepAlive, PipeWriter output, Socket? plainSocket) =>
        _response is null
            ? _response = new HttpResponse(output, request.Version, request.IsHead, keepAlive, plainSocket)
            : _response.Restart(output, plainSocket, request.Version, request.IsHead, keepAlive);

    /// <summary>The exchange of <paramref name="request"/> on <paramref name="connection"/>.</summary>
    public HttpExchange ExchangeFor(Request request, RequestBody body, HttpResponse response, WireConnection connection, PipeReader reader, PipeWriter writer, string remoteAddress) =>
        _exchange is null
            ? _exchange = new HttpExchange(request, body, response, connection, reader, writer, remoteAddress)
            : _exchange.Restart(request, body, response, connection, reader, writer, remoteAddress);

    /// <summary>
    /// Drops every reference to the connection that used these parts (its pipes, socket and stream),
    /// so a pooled set keeps no closed connection alive and the next connection starts clean.
    /// </summary>
    public void Unbind()
    {
        Parser.Reset();
        _response?.Unbind();
        _exchange?.Unbind();
    }
}
