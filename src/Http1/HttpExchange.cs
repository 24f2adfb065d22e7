using System.Net;
using Gatehouse.Wire;

namespace Gatehouse.Http1;

/// <summary>One request and its response on a connection, with who is asking.</summary>
public sealed class HttpExchange
{
    internal HttpExchange(Request request, RequestBody body, HttpResponse response, WireConnection connection)
    {
        Request = request;
        Body = body;
        Response = response;
        Connection = connection;
    }

    public Request Request { get; }

    public RequestBody Body { get; }

    public HttpResponse Response { get; }

    public WireConnection Connection { get; }

    /// <summary>The principal proven during the TLS handshake (or Local/Anonymous on plain listeners).</summary>
    public Principal Principal => Connection.Principal;

    public IPEndPoint RemoteEndPoint => Connection.RemoteEndPoint;
}
