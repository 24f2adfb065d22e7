using System.Buffers.Binary;

namespace Gatehouse.Http1.WebSockets;

/// <summary>
/// Follows the frame headers a peer sends (RFC 6455 §5.2) and adds up the payload lengths each
/// message declares. The framework only hands a frame's payload up as it arrives, so a header that
/// declares 100 MB and then sends nothing would otherwise hold the stream until keep-alive gives
/// up; with this, the limit is known to be broken from the header alone.
/// </summary>
internal sealed class DeclaredSizeLimit(long maxMessageBytes)
{
    private const int MaxHeaderBytes = 14; // 2 + 8 (64-bit length) + 4 (mask)

    private readonly byte[] _header = new byte[MaxHeaderBytes];
    private int _headerHave;
    private long _payloadLeft;
    private long _messageDeclared;

    /// <summary>Set once a message declared more than the limit.</summary>
    public bool Exceeded { get; private set; }

    /// <summary>Called once, from the read that brought the header in, when a message breaks the limit.</summary>
    public Action? OnExceeded { get; set; }

    /// <summary>Feeds the bytes just read (in order, every one); true when the limit is broken.</summary>
    public bool Observe(ReadOnlySpan<byte> bytes)
    {
        if (Exceeded)
        {
            return true;
        }

        while (!bytes.IsEmpty && !Exceeded)
        {
            if (_payloadLeft > 0)
            {
                var skip = (int)Math.Min(_payloadLeft, bytes.Length);
                _payloadLeft -= skip;
                bytes = bytes[skip..];
                continue;
            }

            _header[_headerHave++] = bytes[0];
            bytes = bytes[1..];
            if (_headerHave >= 2 && _headerHave == HeaderLength())
            {
                EndHeader();
            }
        }

        return Exceeded;
    }

    private int HeaderLength()
    {
        var length7 = _header[1] & 0x7F;
        var masked = (_header[1] & 0x80) != 0;
        return 2 + (length7 == 126 ? 2 : length7 == 127 ? 8 : 0) + (masked ? 4 : 0);
    }

    private void EndHeader()
    {
        var opcode = _header[0] & 0x0F;
        var length7 = _header[1] & 0x7F;
        var length = length7 switch
        {
            126 => (_header[2] << 8) | _header[3],
            // A length with the top bit set is a protocol error; as a size it is past any limit.
            127 => (long)Math.Min(BinaryPrimitives.ReadUInt64BigEndian(_header.AsSpan(2, 8)), long.MaxValue),
            _ => length7,
        };
        _headerHave = 0;
        _payloadLeft = length;
        if (opcode >= 8)
        {
            return; // control frames (close, ping, pong) are not part of a message, and at most 125 bytes
        }

        // Opcode 0 continues the message; text or binary starts a new one.
        _messageDeclared = opcode == 0 ? SaturatingAdd(_messageDeclared, length) : length;
        if (_messageDeclared > maxMessageBytes)
        {
            Exceeded = true;
            OnExceeded?.Invoke();
        }
    }

    private static long SaturatingAdd(long a, long b) => a > long.MaxValue - b ? long.MaxValue : a + b;
}
