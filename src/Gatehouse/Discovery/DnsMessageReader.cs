using System.Buffers.Binary;
using System.Diagnostics.CodeAnalysis;
using System.Net;
using System.Text;

namespace Gatehouse.Discovery;

/// <summary>
/// A strict reader of DNS messages as multicast DNS carries them (RFC 1035 §4, RFC 6762 §18).
/// Written here rather than taken from a package: Makaretu.Dns.Multicast and its forks pull in
/// unmaintained dependencies, fail to load on .NET 10 and break the NativeAOT build; ARSoft.Tools.Net
/// and DnsClient are unicast resolvers that do not write responses and rely on reflection. Discovery
/// needs five record types, so the codec is small enough to read in one sitting and to test whole.
/// Anything from the network is hostile: every length is checked against what is left, a name
/// pointer must point strictly backwards (so it cannot loop) and at most <see cref="MaxPointers"/>
/// are followed, and counts and sizes are bounded before anything is allocated.
/// </summary>
internal static class DnsMessageReader
{
    /// <summary>RFC 6762 §17: a multicast DNS message is at most 9000 bytes (a jumbo frame's payload).</summary>
    public const int MaxMessageBytes = 9000;

    /// <summary>Far more than a gateway's announcement (about ten); a longer message is refused whole.</summary>
    public const int MaxEntries = 256;

    /// <summary>A name of 127 one-byte labels needs no more; each pointer also must go backwards.</summary>
    public const int MaxPointers = 128;

    private const int HeaderBytes = 12;
    private const ushort ClassIn = 1;
    private static readonly UTF8Encoding StrictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    /// <summary>Reads a whole message; throws <see cref="DnsFormatException"/> for anything malformed or out of bounds.</summary>
    public static DnsMessage Read(ReadOnlySpan<byte> message)
    {
        if (message.Length > MaxMessageBytes)
        {
            Fail($"longer than {MaxMessageBytes} bytes");
        }

        if (message.Length < HeaderBytes)
        {
            Fail("shorter than a header");
        }

        var id = BinaryPrimitives.ReadUInt16BigEndian(message);
        var flags = BinaryPrimitives.ReadUInt16BigEndian(message[2..]);
        int questions = BinaryPrimitives.ReadUInt16BigEndian(message[4..]);
        var records = BinaryPrimitives.ReadUInt16BigEndian(message[6..])
            + BinaryPrimitives.ReadUInt16BigEndian(message[8..])
            + BinaryPrimitives.ReadUInt16BigEndian(message[10..]);
        if (questions + records > MaxEntries)
        {
            Fail($"more than {MaxEntries} questions and records");
        }

        // RFC 6762 §18.3, §18.11: a message with a non-zero opcode or rcode is silently ignored.
        if (((flags >> 11) & 0xF) != 0 || (flags & 0xF) != 0)
        {
            Fail("opcode or rcode is not zero");
        }

        var position = HeaderBytes;
        var questionList = new List<DnsQuestion>(questions);
        for (var i = 0; i < questions; i++)
        {
            var name = ReadName(message, ref position);
            var type = ReadUInt16(message, ref position);
            var klass = ReadUInt16(message, ref position);
            if ((klass & 0x7FFF) == ClassIn || (klass & 0x7FFF) == 255)
            {
                questionList.Add(new DnsQuestion(name, (DnsType)type));
            }
        }

        var recordList = new List<DnsRecord>(records);
        for (var i = 0; i < records; i++)
        {
            if (ReadRecord(message, ref position) is { } record)
            {
                recordList.Add(record);
            }
        }

        if (position != message.Length)
        {
            Fail("bytes after the last record");
        }

        return new DnsMessage(id, (flags & 0x8000) != 0, questionList, recordList);
    }

    /// <summary>Reads one record; null for a type or class discovery does not use (its data is skipped, length-checked).</summary>
    private static DnsRecord? ReadRecord(ReadOnlySpan<byte> message, ref int position)
    {
        var name = ReadName(message, ref position);
        var type = (DnsType)ReadUInt16(message, ref position);
        var klass = ReadUInt16(message, ref position);
        var ttl = ReadUInt32(message, ref position);
        int length = ReadUInt16(message, ref position);
        if (length > message.Length - position)
        {
            Fail("record data runs past the end");
        }

        var end = position + length;
        var cacheFlush = (klass & 0x8000) != 0;
        if ((klass & 0x7FFF) != ClassIn)
        {
            position = end;
            return null;
        }

        DnsRecord? record;
        switch (type)
        {
            case DnsType.A when length == 4:
                record = new AddressRecord(name, ttl, cacheFlush, new IPAddress(message.Slice(position, 4)));
                break;
            case DnsType.Aaaa when length == 16:
                record = new AddressRecord(name, ttl, cacheFlush, new IPAddress(message.Slice(position, 16)));
                break;
            case DnsType.A or DnsType.Aaaa:
                Fail("an address record of the wrong length");
                return null;
            case DnsType.Ptr:
            {
                var inner = position;
                record = new PtrRecord(name, ttl, ReadName(message, ref inner));
                RequireEnd(inner, end);
                break;
            }

            case DnsType.Srv:
            {
                var inner = position;
                var priority = ReadUInt16(message, ref inner);
                var weight = ReadUInt16(message, ref inner);
                var port = ReadUInt16(message, ref inner);
                record = new SrvRecord(name, ttl, cacheFlush, priority, weight, port, ReadName(message, ref inner));
                RequireEnd(inner, end);
                break;
            }

            case DnsType.Txt:
                record = new TxtRecord(name, ttl, cacheFlush, ReadStrings(message[position..end]));
                break;
            default:
                record = null;
                break;
        }

        position = end;
        return record;
    }

    private static List<string> ReadStrings(ReadOnlySpan<byte> data)
    {
        var strings = new List<string>();
        var position = 0;
        while (position < data.Length)
        {
            int length = data[position++];
            if (length > data.Length - position)
            {
                Fail("a TXT string runs past its record");
            }

            // RFC 6763 §6.1: a zero-length string is what an empty TXT record holds; skip it.
            if (length > 0)
            {
                strings.Add(DecodeText(data.Slice(position, length)));
            }

            position += length;
        }

        return strings;
    }

    /// <summary>RFC 1035 §4.1.4: labels, ending in the root or in a pointer to an earlier name.</summary>
    private static DnsName ReadName(ReadOnlySpan<byte> message, ref int position)
    {
        var labels = new List<string>();
        var wireBytes = 1;
        var cursor = position;
        var resumeAt = -1;
        var pointers = 0;
        while (true)
        {
            if (cursor >= message.Length)
            {
                Fail("a name runs past the end");
            }

            int length = message[cursor];
            if ((length & 0xC0) == 0xC0)
            {
                if (cursor + 1 >= message.Length)
                {
                    Fail("a name pointer runs past the end");
                }

                var target = ((length & 0x3F) << 8) | message[cursor + 1];
                // Strictly backwards, so no chain of pointers can come round to itself.
                if (target >= cursor || ++pointers > MaxPointers)
                {
                    Fail("a name pointer that does not point backwards");
                }

                if (resumeAt < 0)
                {
                    resumeAt = cursor + 2;
                }

                cursor = target;
                continue;
            }

            if ((length & 0xC0) != 0)
            {
                Fail("a label type other than a plain label or a pointer");
            }

            cursor++;
            if (length == 0)
            {
                break;
            }

            if (length > message.Length - cursor)
            {
                Fail("a label runs past the end");
            }

            wireBytes += 1 + length;
            if (wireBytes > DnsName.MaxWireBytes)
            {
                Fail($"a name longer than {DnsName.MaxWireBytes} bytes");
            }

            labels.Add(DecodeText(message.Slice(cursor, length)));
            cursor += length;
        }

        position = resumeAt >= 0 ? resumeAt : cursor;
        return new DnsName(labels);
    }

    /// <summary>RFC 6762 §16: names and TXT strings are UTF-8; invalid UTF-8 or control characters refuse the message.</summary>
    private static string DecodeText(ReadOnlySpan<byte> bytes)
    {
        string text;
        try
        {
            text = StrictUtf8.GetString(bytes);
        }
        catch (DecoderFallbackException ex)
        {
            throw new DnsFormatException("text that is not UTF-8", ex);
        }

        if (text.AsSpan().ContainsAnyInRange('\0', '\u001F') || text.Contains('\u007F', StringComparison.Ordinal))
        {
            Fail("a control character in a name or TXT string");
        }

        return text;
    }

    private static void RequireEnd(int position, int end)
    {
        if (position != end)
        {
            Fail("record data of the wrong length");
        }
    }

    private static ushort ReadUInt16(ReadOnlySpan<byte> message, ref int position)
    {
        if (message.Length - position < 2)
        {
            Fail("truncated");
        }

        var value = BinaryPrimitives.ReadUInt16BigEndian(message[position..]);
        position += 2;
        return value;
    }

    private static uint ReadUInt32(ReadOnlySpan<byte> message, ref int position)
    {
        if (message.Length - position < 4)
        {
            Fail("truncated");
        }

        var value = BinaryPrimitives.ReadUInt32BigEndian(message[position..]);
        position += 4;
        return value;
    }

    [DoesNotReturn]
    private static void Fail(string reason) => throw new DnsFormatException(reason);
}
