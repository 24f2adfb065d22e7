namespace Gatehouse.Proxy;

/// <summary>
/// Follows the frames (RFC 6455 §5.2) an upstream sends through a tunnel, only far enough to know
/// where each ends: so a stopping gateway can put its own close frame between two of them rather
/// than inside one.
/// </summary>
internal sealed class WebSocketFrameCursor
{
    private readonly byte[] _header = new byte[14]; // 2 + 8 (64-bit length) + 4 (mask)
    private int _headerHave;
    private ulong _payloadLeft;

    /// <summary>Between two frames: a frame may be inserted here.</summary>
    public bool AtBoundary => _headerHave == 0 && _payloadLeft == 0;

    /// <summary>
    /// Follows <paramref name="bytes"/> up to their end, or with <paramref name="stopAtBoundary"/>
    /// only up to the end of the frame under way; returns how many bytes it followed.
    /// </summary>
    public int Advance(ReadOnlySpan<byte> bytes, bool stopAtBoundary)
    {
        var taken = 0;
        while (taken < bytes.Length && !(stopAtBoundary && taken > 0 && AtBoundary))
        {
            if (_payloadLeft > 0)
            {
                var skip = (int)Math.Min(_payloadLeft, (ulong)(bytes.Length - taken));
                _payloadLeft -= (ulong)skip;
                taken += skip;
                continue;
            }

            _header[_headerHave++] = bytes[taken++];
            if (_headerHave >= 2 && _headerHave == HeaderLength())
            {
                var length7 = _header[1] & 0x7F;
                _payloadLeft = length7 switch
                {
                    126 => (ulong)((_header[2] << 8) | _header[3]),
                    127 => System.Buffers.Binary.BinaryPrimitives.ReadUInt64BigEndian(_header.AsSpan(2, 8)),
                    _ => (ulong)length7,
                };
                _headerHave = 0;
            }
        }

        return taken;
    }

    private int HeaderLength()
    {
        var length7 = _header[1] & 0x7F;
        return 2 + (length7 == 126 ? 2 : length7 == 127 ? 8 : 0) + ((_header[1] & 0x80) != 0 ? 4 : 0);
    }
}
