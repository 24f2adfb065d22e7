namespace Gatehouse.Http1;

/// <summary>
/// The canonical request: parsed once, judged by policy, and re-serialized by the forwarder.
/// Nothing downstream looks at raw bytes again.
/// </summary>
/// <remarks>
/// Valid while its exchange lasts: a connection's parser refills the same object for its next
/// keep-alive request (issue 9), so copy what must outlive the exchange.
/// </remarks>
public sealed class Request
{
    internal Request(string method, HttpVersion version, CanonicalTarget target, RequestHeaders headers)
    {
        Method = method;
        Version = version;
        Target = target;
        Headers = headers;
    }

    /// <summary>Makes this the next request's: every field back to its default, so nothing of the previous request shows.</summary>
    internal Request Restart(string method, HttpVersion version, CanonicalTarget target)
    {
        Method = method;
        Version = version;
        Target = target;
        Host = string.Empty;
        Framing = BodyFraming.None;
        ContentLength = -1;
        KeepAlive = false;
        ExpectContinue = false;
        IsUpgrade = false;
        return this;
    }

    /// <summary>The method token, case-sensitive as RFC 9110 §9.1 says; common methods are interned.</summary>
    public string Method { get; private set; }

    public HttpVersion Version { get; private set; }

    public CanonicalTarget Target { get; private set; }

    /// <summary>
    /// The fields, valid while this request's exchange lasts: the connection empties and refills
    /// the same list for its next request (issue 9), so copy what must outlive the exchange.
    /// </summary>
    public RequestHeaders Headers { get; }

    /// <summary>Host header value, or the authority of an absolute-form target; empty for HTTP/1.0 without Host.</summary>
    public string Host { get; internal set; } = string.Empty;

    public BodyFraming Framing { get; internal set; }

    /// <summary>The declared body length; -1 unless <see cref="Framing"/> is ContentLength.</summary>
    public long ContentLength { get; internal set; } = -1;

    /// <summary>The client asked to keep the connection (HTTP/1.1 default, or HTTP/1.0 with keep-alive).</summary>
    public bool KeepAlive { get; internal set; }

    /// <summary>The client sent <c>Expect: 100-continue</c> and waits for our go-ahead before the body.</summary>
    public bool ExpectContinue { get; internal set; }

    /// <summary><c>Connection: upgrade</c> with an <c>Upgrade</c> header (WebSocket handshakes).</summary>
    public bool IsUpgrade { get; internal set; }

    public bool IsHead => ReferenceEquals(Method, HttpMethods.Head);

    public bool HasBody => Framing != BodyFraming.None && ContentLength != 0;
}
