using System.Buffers;
using System.Text;

namespace Gatehouse.Proxy;

/// <summary>
/// One upstream header or trailer line, checked to RFC 9112 §5: a token name, ':' right after it
/// (no whitespace before the colon), optional whitespace, a value of field-vchar/SP/HTAB/obs-text.
/// A line that begins with whitespace is obs-fold (§5.2) and refused.
/// </summary>
internal static class FieldLine
{
    private static readonly SearchValues<byte> Token =
        SearchValues.Create("!#$%&'*+-.^_`|~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"u8);

    private static readonly SearchValues<byte> FieldValue = SearchValues.Create(BuildFieldValue());

    public static bool IsToken(ReadOnlySpan<byte> text) => !text.IsEmpty && text.IndexOfAnyExcept(Token) < 0;

    public static bool IsTokenByte(byte b) => Token.Contains(b);

    /// <summary>True when every byte may stand in a field value or reason phrase.</summary>
    public static bool IsFieldText(ReadOnlySpan<byte> text) => text.IndexOfAnyExcept(FieldValue) < 0;

    /// <summary>Splits and checks a line (CRLF already removed). Throws <see cref="UpstreamProtocolException"/> when malformed.</summary>
    public static void Split(ReadOnlySpan<byte> line, out ReadOnlySpan<byte> name, out ReadOnlySpan<byte> value)
    {
        if (line[0] is (byte)' ' or (byte)'\t')
        {
            UpstreamProtocolException.Throw("obs-fold in upstream header");
        }

        var colon = line.IndexOf((byte)':');
        if (colon <= 0 || !IsToken(line[..colon]))
        {
            UpstreamProtocolException.Throw("invalid upstream header name");
        }

        name = line[..colon];
        value = line[(colon + 1)..].Trim(" \t"u8);
        if (!IsFieldText(value))
        {
            UpstreamProtocolException.Throw("invalid byte in upstream header value");
        }
    }

    public static string Latin1(ReadOnlySpan<byte> bytes) => Encoding.Latin1.GetString(bytes);

    private static byte[] BuildFieldValue()
    {
        var bytes = new List<byte> { (byte)' ', (byte)'\t' };
        for (var b = 0x21; b <= 0x7E; b++)
        {
            bytes.Add((byte)b);
        }

        for (var b = 0x80; b <= 0xFF; b++)
        {
            bytes.Add((byte)b);
        }

        return [.. bytes];
    }
}
