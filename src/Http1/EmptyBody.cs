namespace Gatehouse.Http1;

/// <summary>The body of a request without Content-Length or Transfer-Encoding: none (RFC 9112 §6.3 rule 7).</summary>
internal sealed class EmptyBody : RequestBody
{
    public static EmptyBody Instance { get; } = new();

    public override bool IsComplete => true;

    public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) => ValueTask.FromResult(0);
}
