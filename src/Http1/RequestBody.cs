namespace Gatehouse.Http1;

/// <summary>
/// A request body as it arrives, de-framed (Content-Length or chunked), with back-pressure:
/// nothing is read from the socket until the handler asks. Reads past the end return 0.
/// Framing errors throw <see cref="RequestRejectedException"/>; a stall longer than the body
/// timeout throws it with <see cref="RejectReason.BodyTimeout"/>.
/// </summary>
public abstract class RequestBody
{
    /// <summary>Body bytes handed to the handler so far.</summary>
    public long BytesRead { get; protected set; }

    /// <summary>The whole body has been read.</summary>
    public abstract bool IsComplete { get; }

    /// <summary>Reads up to <paramref name="buffer"/>.Length body bytes; 0 means the body has ended.</summary>
    public abstract ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default);

    /// <summary>A read-only stream over the body, for APIs that want one.</summary>
    public Stream AsStream() => new RequestBodyStream(this);
}
