namespace Gatehouse.Proxy;

/// <summary>How a forward ended, naming the side that failed (STYLE.md Forwarding).</summary>
public enum ForwardResult
{
    /// <summary>The upstream's answer reached the client whole.</summary>
    Completed,

    /// <summary>The client went away; nothing more can be said to it. The upstream connection was discarded.</summary>
    ClientGone,

    /// <summary>No node accepted a connection; 502 was sent.</summary>
    UpstreamConnectFailed,

    /// <summary>Connect or status line did not come in time (or no pooled slot freed up); 504 was sent.</summary>
    UpstreamTimeout,

    /// <summary>The upstream reset, closed or spoke malformed HTTP before its answer began; 502 was sent.</summary>
    UpstreamFailedBeforeResponse,

    /// <summary>The upstream failed after the answer began; the client connection must close (see <see cref="ForwardAbortedException"/>).</summary>
    UpstreamFailedMidResponse,

    /// <summary>The client's request body was malformed or stalled; an error was sent when still possible and the connection closes.</summary>
    RequestBodyInvalid,
}
