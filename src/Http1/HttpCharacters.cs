using System.Buffers;
using System.Text;

namespace Gatehouse.Http1;

/// <summary>Character classes of RFC 9110 §5.6.2 and RFC 3986, as vectorizable sets.</summary>
public static class HttpCharacters
{
    private const string QueryAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~%!$&'()*+,;=:@/?";

    private const string TokenAlphabet = "!#$%&'*+-.^_`|~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

    /// <summary>tchar: the bytes of a token (method, field name, transfer-coding).</summary>
    public static readonly SearchValues<byte> Token = SearchValues.Create(Encoding.ASCII.GetBytes(TokenAlphabet));

    /// <summary>field-vchar / SP / HTAB / obs-text: what a field value may hold (RFC 9110 §5.5).</summary>
    public static readonly SearchValues<byte> FieldValue = SearchValues.Create(BuildFieldValue());

    /// <summary>
    /// <see cref="Token"/> as chars: a response field name the writer is handed as a string. One
    /// alphabet for both, so what the parser accepts and what the writer sends cannot drift.
    /// </summary>
    public static readonly SearchValues<char> TokenText = SearchValues.Create(TokenAlphabet);

    /// <summary><see cref="FieldValue"/> as chars (Latin-1: each byte is the char of the same value).</summary>
    public static readonly SearchValues<char> FieldValueText = SearchValues.Create(Encoding.Latin1.GetString(BuildFieldValue()));

    /// <summary>
    /// pchar plus '/' (RFC 3986 §3.3): unreserved, pct-encoded ('%'), sub-delims, ':' and '@'.
    /// Anything else in a path (space, '"', '\', '#', non-ASCII, controls) is refused.
    /// </summary>
    public static readonly SearchValues<byte> PathChar =
        SearchValues.Create("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~%!$&'()*+,;=:@/"u8);

    /// <summary>query = *( pchar / "/" / "?" ) (RFC 3986 §3.4).</summary>
    public static readonly SearchValues<byte> QueryChar = SearchValues.Create(Encoding.ASCII.GetBytes(QueryAlphabet));

    /// <summary>
    /// <see cref="QueryChar"/> as chars: an origin-form target we send on (path and query) holds
    /// nothing else. One alphabet for both, so what we accept and what we forward cannot drift.
    /// </summary>
    public static readonly SearchValues<char> TargetText = SearchValues.Create(QueryAlphabet);

    /// <summary>
    /// Bytes a segment keeps unescaped when re-serialized: unreserved, sub-delims but ';', ':' and '@'.
    /// ';' goes out as %3B: servlet containers read "..;" as ".." and strip ";params" from a segment
    /// (issue 17), while CouchDB, Node and Python decode %3B to the same ';' the client meant.
    /// </summary>
    public static readonly SearchValues<byte> SegmentVerbatim =
        SearchValues.Create("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~!$&'()*+,=:@"u8);

    /// <summary>Host: reg-name / IPv4 / IP-literal, with an optional port (RFC 3986 §3.2.2). No userinfo, no path.</summary>
    public static readonly SearchValues<byte> HostChar =
        SearchValues.Create("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~%!$&'()*+;=:[]"u8);

    public static readonly SearchValues<byte> HexDigit = SearchValues.Create("0123456789ABCDEFabcdef"u8);

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
