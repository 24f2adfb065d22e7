using System.Buffers;

namespace Gatehouse.Wire;

/// <summary>
/// Held handshake writes (issue 19 item 4). On .NET 10/Linux SslStream judges the client's certificate
/// only after OpenSSL has finished the handshake, so a TLS 1.2 server has already written its
/// ChangeCipherSpec and Finished when the judgement comes, and OpenSSL gives SslStream no way to send
/// an alert (SslStreamPal.Unix's ApplyAlertToken does nothing). Holding the handshake's writes until
/// the server next reads, or until the judgement, keeps that last flight back: a refused TLS 1.2
/// client is still waiting for it and so still reads a plaintext alert that names the reason.
/// A held write is sent before any read, because whoever reads waits for what it wrote to be answered.
/// </summary>
internal sealed partial class ConnectionStream
{
    /// <summary>The pool of the held bytes; a handshake's flight is a few KiB, rented for the handshake only.</summary>
    private static ArrayPool<byte> HeldPool => ArrayPool<byte>.Shared;

    private bool _holding;
    private byte[]? _held;
    private int _heldCount;

    /// <summary>From now on writes are kept back until the next read, <see cref="ReleaseHeldAsync"/> or <see cref="DiscardHeld"/>.</summary>
    public void HoldWrites() => _holding = true;

    /// <summary>Stops holding and sends what was held.</summary>
    public ValueTask ReleaseHeldAsync(CancellationToken cancellationToken)
    {
        _holding = false;
        return SendHeldAsync(cancellationToken);
    }

    /// <summary>Stops holding and forgets what was held: the peer will never see it.</summary>
    public void DiscardHeld()
    {
        _holding = false;
        ReturnHeld();
    }

    private void Hold(ReadOnlySpan<byte> bytes)
    {
        int needed = checked(_heldCount + bytes.Length);
        if (_held is null || _held.Length < needed)
        {
            byte[] larger = HeldPool.Rent(Math.Max(needed, 4096));
            if (_held is not null)
            {
                _held.AsSpan(0, _heldCount).CopyTo(larger);
                HeldPool.Return(_held);
            }

            _held = larger;
        }

        bytes.CopyTo(_held.AsSpan(_heldCount));
        _heldCount = needed;
    }

    private async ValueTask SendHeldAsync(CancellationToken cancellationToken)
    {
        // Taken off the stream first: a dispose during the send must not return an array still being sent.
        if (_held is not { } held)
        {
            return;
        }

        int count = _heldCount;
        _held = null;
        _heldCount = 0;
        try
        {
            await Send(held.AsMemory(0, count), cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            HeldPool.Return(held);
        }
    }

    private void ReturnHeld()
    {
        if (_held is { } held)
        {
            _held = null;
            _heldCount = 0;
            HeldPool.Return(held);
        }
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            _holding = false;
            ReturnHeld();
        }

        base.Dispose(disposing);
    }
}
