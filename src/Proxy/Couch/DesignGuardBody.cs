using System.Buffers;
using Gatehouse.Http1;

namespace Gatehouse.Proxy;

/// <summary>
/// A request body that passes the client's bytes on as they come while a
/// <see cref="DesignDocumentScanner"/> reads them (issue 17 item 2). It always holds back the last
/// byte read until the body has ended and the scanner has judged the whole of it: CouchDB and
/// pouchdb-server commit a write only once the whole body has arrived, so a refusal (thrown as
/// <see cref="RequestRejectedException"/>, which makes the forwarder abort the upstream connection)
/// can never come after the upstream could have stored anything.
/// </summary>
public sealed class DesignGuardBody : RequestBody, IDisposable
{
    private readonly RequestBody _inner;
    private readonly DesignDocumentScanner _scanner;
    private readonly byte[] _one = new byte[1];
    private byte _held;
    private bool _hasHeld;
    private bool _judged;

    public DesignGuardBody(RequestBody inner, CouchBodyInspection kind, ArrayPool<byte>? pool = null, int maxTokenBytes = DesignDocumentScanner.DefaultMaxTokenBytes)
    {
        ArgumentNullException.ThrowIfNull(inner);
        _inner = inner;
        _scanner = new DesignDocumentScanner(kind, pool, maxTokenBytes);
    }

    /// <summary>Complete only once the whole body was judged and its last byte handed on.</summary>
    public override bool IsComplete => _judged && !_hasHeld;

    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        if (buffer.IsEmpty)
        {
            return 0;
        }

        while (true)
        {
            if (_judged)
            {
                return Release(buffer.Span);
            }

            if (_hasHeld && buffer.Length == 1)
            {
                // No room beside the held byte: read one more on the side, then hand the held one on.
                if (await _inner.ReadAsync(_one, cancellationToken).ConfigureAwait(false) == 0)
                {
                    Judge();
                    continue;
                }

                Accept(_one);
                buffer.Span[0] = _held;
                _held = _one[0];
                BytesRead++;
                return 1;
            }

            var offset = 0;
            if (_hasHeld)
            {
                buffer.Span[0] = _held;
                offset = 1;
            }

            var read = await _inner.ReadAsync(buffer[offset..], cancellationToken).ConfigureAwait(false);
            if (read == 0)
            {
                Judge(); // the held byte, if any, is still at buffer[0] and goes out on the next pass
                continue;
            }

            var total = offset + read;
            Accept(buffer.Span.Slice(offset, read));
            if (_judged)
            {
                _hasHeld = false;
                BytesRead += total;
                return total;
            }

            _held = buffer.Span[total - 1];
            _hasHeld = true;
            if (total > 1)
            {
                BytesRead += total - 1;
                return total - 1;
            }
        }
    }

    /// <summary>Why the body was refused, once it was: for the access log's refusal reason.</summary>
    public string? Refusal { get; private set; }

    public void Dispose() => _scanner.Dispose();

    /// <summary>Scans new bytes; when the client's body has just ended with them, judges the whole.</summary>
    private void Accept(ReadOnlySpan<byte> bytes)
    {
        try
        {
            _scanner.Feed(bytes);
        }
        catch (RequestRejectedException ex)
        {
            Refusal = ex.Message;
            throw;
        }

        if (_inner.IsComplete)
        {
            Judge();
        }
    }

    private void Judge()
    {
        try
        {
            _scanner.Complete();
        }
        catch (RequestRejectedException ex)
        {
            Refusal = ex.Message;
            throw;
        }

        _judged = true;
    }

    private int Release(Span<byte> buffer)
    {
        if (!_hasHeld)
        {
            return 0;
        }

        buffer[0] = _held;
        _hasHeld = false;
        BytesRead++;
        return 1;
    }
}
