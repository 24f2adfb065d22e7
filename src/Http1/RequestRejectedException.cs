using System.Diagnostics.CodeAnalysis;

namespace Gatehouse.Http1;

/// <summary>
/// The one exception the parser throws for malformed input. After it, the connection
/// answers (when it still can) and closes: a framing error is never followed by reuse.
/// </summary>
public sealed class RequestRejectedException : Exception
{
    public RequestRejectedException(RejectReason reason)
        : base(RejectReasons.Text(reason))
    {
        Reason = reason;
    }

    /// <summary>A refusal with its own client-facing text (a route's body check names what it refused).</summary>
    public RequestRejectedException(RejectReason reason, string message)
        : base(message)
    {
        Reason = reason;
    }

    public RequestRejectedException()
        : this(RejectReason.InvalidRequestLine)
    {
    }

    public RequestRejectedException(string message)
        : base(message)
    {
    }

    public RequestRejectedException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    public RejectReason Reason { get; }

    public int StatusCode => RejectReasons.StatusCode(Reason);

    [DoesNotReturn]
    public static void Throw(RejectReason reason) => throw new RequestRejectedException(reason);
}
