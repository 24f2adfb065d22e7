using System.Buffers;
using System.Text;
using Gatehouse.Http1;

namespace Gatehouse.Proxy;

/// <summary>
/// One upstream header or trailer line, checked to RFC 9112 §5: a token name, ':' right after it
/// (no whitespace before the colon), optional whitespace, a value of field-vchar/SP/HTAB/obs-text.
/// A line that begins with whitespace is obs-fold (§5.2) and refused.
/// </summary>
internal static class FieldLine
{
    // The character classes are the request parser's own (RFC 9110 §5.6.2, §5.5): one definition for both directions.
    private static SearchValues<byte> Token => HttpCharacters.Token;

    private static SearchValues<byte> FieldValue => HttpCharacters.FieldValue;

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
}
