namespace Gatehouse.Proxy;

/// <summary>
/// Thrown by <see cref="Forwarder.ForwardAsync"/> when the answer had already started and can no
/// longer be finished honestly. It is an <see cref="IOException"/> so the HTTP/1.1 loop closes the
/// client connection without writing an end-of-body: a truncated body must never look complete (issue 3).
/// </summary>
public sealed class ForwardAbortedException : IOException
{
    public ForwardAbortedException()
        : this(ForwardResult.UpstreamFailedMidResponse, "the forwarded answer was cut off", null)
    {
    }

    public ForwardAbortedException(string message)
        : this(ForwardResult.UpstreamFailedMidResponse, message, null)
    {
    }

    public ForwardAbortedException(string message, Exception innerException)
        : this(ForwardResult.UpstreamFailedMidResponse, message, innerException)
    {
    }

    public ForwardAbortedException(ForwardResult result, string message, Exception? innerException)
        : base(message, innerException)
    {
        Result = result;
    }

    /// <summary>Which side failed: <see cref="ForwardResult.UpstreamFailedMidResponse"/>, or a client-side result.</summary>
    public ForwardResult Result { get; }
}
