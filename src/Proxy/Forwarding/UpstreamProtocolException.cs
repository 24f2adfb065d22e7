using System.Diagnostics.CodeAnalysis;

namespace Gatehouse.Proxy;

/// <summary>
/// The upstream's answer broke HTTP/1.1 framing (bad status line, obs-fold, CL with TE, a bad
/// chunk …). The connection is closed and never reused; before the answer started the client gets 502.
/// </summary>
internal sealed class UpstreamProtocolException : Exception
{
    public UpstreamProtocolException()
        : base("malformed upstream response")
    {
    }

    public UpstreamProtocolException(string message)
        : base(message)
    {
    }

    public UpstreamProtocolException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    [DoesNotReturn]
    public static void Throw(string reason) => throw new UpstreamProtocolException(reason);
}
