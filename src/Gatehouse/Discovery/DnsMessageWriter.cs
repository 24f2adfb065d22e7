using System.Buffers.Binary;
using System.Net.Sockets;
using System.Text;

namespace Gatehouse.Discovery;

/// <summary>
/// Writes a DNS message for multicast DNS (RFC 6762 §18): a query, or a response with every record
/// in the answer section. Names are written without compression: an announcement is a few hundred
/// bytes, and one way of writing names is one less thing to get wrong.
/// </summary>
internal static class DnsMessageWriter
{
    private const ushort ClassIn = 1;

    /// <summary>A response: id 0, QR and AA set (RFC 6762 §18.1, §18.4), the records as answers.</summary>
    public static byte[] Response(IReadOnlyList<DnsRecord> records)
    {
        var buffer = new List<byte>(512);
        WriteHeader(buffer, flags: 0x8400, questions: 0, answers: records.Count);
        foreach (var record in records)
        {
            WriteRecord(buffer, record);
        }

        return Finish(buffer);
    }

    /// <summary>A multicast query (QM: the answer is multicast too, so every browser on the link hears it).</summary>
    public static byte[] Query(IReadOnlyList<DnsQuestion> questions)
    {
        var buffer = new List<byte>(128);
        WriteHeader(buffer, flags: 0, questions: questions.Count, answers: 0);
        foreach (var question in questions)
        {
            WriteName(buffer, question.Name);
            WriteUInt16(buffer, (ushort)question.Type);
            WriteUInt16(buffer, ClassIn);
        }

        return Finish(buffer);
    }

    private static byte[] Finish(List<byte> buffer)
    {
        if (buffer.Count > DnsMessageReader.MaxMessageBytes)
        {
            throw new InvalidOperationException($"a DNS message longer than {DnsMessageReader.MaxMessageBytes} bytes");
        }

        return [.. buffer];
    }

    private static void WriteHeader(List<byte> buffer, ushort flags, int questions, int answers)
    {
        WriteUInt16(buffer, 0);
        WriteUInt16(buffer, flags);
        WriteUInt16(buffer, checked((ushort)questions));
        WriteUInt16(buffer, checked((ushort)answers));
        WriteUInt16(buffer, 0);
        WriteUInt16(buffer, 0);
    }

    private static void WriteRecord(List<byte> buffer, DnsRecord record)
    {
        WriteName(buffer, record.Name);
        WriteUInt16(buffer, (ushort)record.Type);
        WriteUInt16(buffer, record.CacheFlush ? (ushort)(ClassIn | 0x8000) : ClassIn);
        WriteUInt32(buffer, record.Ttl);
        var lengthAt = buffer.Count;
        WriteUInt16(buffer, 0);
        switch (record)
        {
            case PtrRecord ptr:
                WriteName(buffer, ptr.Target);
                break;
            case SrvRecord srv:
                WriteUInt16(buffer, srv.Priority);
                WriteUInt16(buffer, srv.Weight);
                WriteUInt16(buffer, srv.Port);
                WriteName(buffer, srv.Target);
                break;
            case TxtRecord txt:
                foreach (var text in txt.Strings)
                {
                    var bytes = Encoding.UTF8.GetBytes(text);
                    if (bytes.Length > byte.MaxValue)
                    {
                        throw new ArgumentException("a TXT string is at most 255 bytes", nameof(record));
                    }

                    buffer.Add((byte)bytes.Length);
                    buffer.AddRange(bytes);
                }

                if (txt.Strings.Count == 0)
                {
                    buffer.Add(0); // RFC 6763 §6.1: an empty TXT record holds one empty string
                }

                break;
            case AddressRecord address:
                var raw = address.Address.AddressFamily == AddressFamily.InterNetworkV6
                    ? new System.Net.IPAddress(address.Address.GetAddressBytes()).GetAddressBytes() // no scope on the wire
                    : address.Address.GetAddressBytes();
                buffer.AddRange(raw);
                break;
            default:
                throw new ArgumentException($"cannot write a {record.Type} record", nameof(record));
        }

        var length = checked((ushort)(buffer.Count - lengthAt - 2));
        buffer[lengthAt] = (byte)(length >> 8);
        buffer[lengthAt + 1] = (byte)length;
    }

    private static void WriteName(List<byte> buffer, DnsName name)
    {
        foreach (var label in name.Labels)
        {
            var bytes = Encoding.UTF8.GetBytes(label);
            buffer.Add((byte)bytes.Length); // DnsName bounds each label to 63 bytes
            buffer.AddRange(bytes);
        }

        buffer.Add(0);
    }

    private static void WriteUInt16(List<byte> buffer, ushort value)
    {
        Span<byte> bytes = stackalloc byte[2];
        BinaryPrimitives.WriteUInt16BigEndian(bytes, value);
        buffer.AddRange(bytes);
    }

    private static void WriteUInt32(List<byte> buffer, uint value)
    {
        Span<byte> bytes = stackalloc byte[4];
        BinaryPrimitives.WriteUInt32BigEndian(bytes, value);
        buffer.AddRange(bytes);
    }
}
