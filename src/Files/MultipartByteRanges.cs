using System.Security.Cryptography;
using System.Text.Unicode;

namespace Gatehouse.Files;

/// <summary>
/// The framing of a <c>multipart/byteranges</c> body (RFC 9110 §14.6, RFC 2046 §5.1.1). The part
/// heads are formatted straight into the response's buffers, and the exact body length is known up
/// front, so the answer carries Content-Length rather than chunked framing.
/// </summary>
internal sealed class MultipartByteRanges
{
    // Longest head: CRLF "--" boundary CRLF, the Content-Type line, and three 19-digit numbers.
    private const int MaxHeadBytes = 256;

    private readonly string _boundary;
    private readonly long _size;

    public MultipartByteRanges(long size)
    {
        // A random boundary cannot be chosen by whoever wrote the file, so it never occurs inside a part.
        _boundary = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(16));
        _size = size;
    }

    public string ContentType => "multipart/byteranges; boundary=" + _boundary;

    /// <summary>Bytes before each part's data (its delimiter and headers), and after the last part.</summary>
    public int MaxPartHeadLength => MaxHeadBytes;

    public long BodyLength(ReadOnlySpan<ByteRange> ranges)
    {
        Span<byte> scratch = stackalloc byte[MaxHeadBytes];
        long total = WriteTrailer(scratch);
        for (var i = 0; i < ranges.Length; i++)
        {
            total += WritePartHead(scratch, ranges[i], first: i == 0) + ranges[i].Length;
        }

        return total;
    }

    /// <summary>The delimiter and headers of one part. The first part has no leading CRLF (empty preamble).</summary>
    public int WritePartHead(Span<byte> destination, ByteRange range, bool first)
    {
        var lead = first ? ""u8 : "\r\n"u8;
        lead.CopyTo(destination);
        Utf8.TryWrite(
            destination[lead.Length..],
            $"--{_boundary}\r\nContent-Type: application/octet-stream\r\nContent-Range: bytes {range.Start}-{range.End}/{_size}\r\n\r\n",
            out var written);
        return lead.Length + written;
    }

    /// <summary>The close delimiter after the last part.</summary>
    public int WriteTrailer(Span<byte> destination)
    {
        Utf8.TryWrite(destination, $"\r\n--{_boundary}--\r\n", out var written);
        return written;
    }
}
