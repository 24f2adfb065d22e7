using System.IO.Pipelines;

namespace Gatehouse.Proxy;

/// <summary>
/// The upstream answer's body, de-framed as it streams (one small class per framing, chosen in
/// <see cref="Create"/>). Reads copy straight into the client's output buffer; 0 means the body
/// ended properly. An upstream that closes early throws <see cref="IOException"/>, malformed
/// framing <see cref="UpstreamProtocolException"/>: never a silent short body.
/// </summary>
internal abstract class UpstreamBody
{
    protected UpstreamBody(PipeReader reader)
    {
        Reader = reader;
    }

    public abstract bool IsComplete { get; }

    /// <summary>Body bytes still to come when the framing says how many; <see cref="long.MaxValue"/> when it does not.</summary>
    public virtual long BytesOwed => long.MaxValue;

    protected PipeReader Reader { get; }

    public abstract ValueTask<int> ReadAsync(Memory<byte> destination, CancellationToken cancellationToken);

    /// <summary>
    /// Copies the whole rest of the body into <paramref name="destination"/> when the reader already
    /// holds all of it, without waiting; false (nothing taken) when it does not, or the framing cannot tell.
    /// </summary>
    public virtual bool TryReadRest(Span<byte> destination) => false;

    public static UpstreamBody Create(UpstreamFraming framing, PipeReader reader, long contentLength) => framing switch
    {
        UpstreamFraming.ContentLength => new ContentLengthUpstreamBody(reader, contentLength),
        UpstreamFraming.Chunked => new ChunkedUpstreamBody(reader),
        UpstreamFraming.UntilClose => new CloseDelimitedUpstreamBody(reader),
        _ => new EmptyUpstreamBody(reader),
    };

    protected async ValueTask<ReadResult> ReadMoreAsync(CancellationToken cancellationToken)
    {
        var result = await Reader.ReadAsync(cancellationToken).ConfigureAwait(false);
        if (result.IsCanceled)
        {
            throw new OperationCanceledException("upstream read canceled");
        }

        return result;
    }
}

/// <summary>No body (HEAD, 1xx, 204, 304).</summary>
internal sealed class EmptyUpstreamBody(PipeReader reader) : UpstreamBody(reader)
{
    public override bool IsComplete => true;

    public override ValueTask<int> ReadAsync(Memory<byte> destination, CancellationToken cancellationToken) => ValueTask.FromResult(0);
}
