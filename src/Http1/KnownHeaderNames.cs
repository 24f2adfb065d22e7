using System.Text;

namespace Gatehouse.Http1;

/// <summary>
/// Header names the gateway reads, interned so parsing a typical request allocates no name strings.
/// A received name that matches one (case-insensitively) is stored in its canonical spelling.
/// </summary>
public static class KnownHeaderNames
{
    public const string Host = "Host";
    public const string ContentLength = "Content-Length";
    public const string TransferEncoding = "Transfer-Encoding";
    public const string Connection = "Connection";
    public const string Expect = "Expect";
    public const string Upgrade = "Upgrade";
    public const string Authorization = "Authorization";
    public const string ContentType = "Content-Type";
    public const string Accept = "Accept";
    public const string AcceptEncoding = "Accept-Encoding";
    public const string UserAgent = "User-Agent";
    public const string Range = "Range";
    public const string IfRange = "If-Range";
    public const string IfNoneMatch = "If-None-Match";
    public const string IfMatch = "If-Match";
    public const string Cookie = "Cookie";
    public const string KeepAlive = "Keep-Alive";
    public const string Te = "TE";
    public const string Trailer = "Trailer";
    public const string ProxyConnection = "Proxy-Connection";
    public const string Origin = "Origin";
    public const string Referer = "Referer";
    public const string SecWebSocketKey = "Sec-WebSocket-Key";
    public const string SecWebSocketVersion = "Sec-WebSocket-Version";
    public const string SecWebSocketProtocol = "Sec-WebSocket-Protocol";
    public const string Date = "Date";

    private static readonly (byte[] Bytes, string Name)[] Table = BuildTable(
        Host, ContentLength, TransferEncoding, Connection, Expect, Upgrade, Authorization, ContentType,
        Accept, AcceptEncoding, UserAgent, Range, IfRange, IfNoneMatch, IfMatch, Cookie, KeepAlive, Te,
        Trailer, ProxyConnection, Origin, Referer, SecWebSocketKey, SecWebSocketVersion, SecWebSocketProtocol,
        Date, "Accept-Language", "Cache-Control", "Pragma", "Content-Encoding", "Content-Type", "Destination");

    /// <summary>The interned name for <paramref name="name"/>, or a new string when it is not a known one.</summary>
    internal static string Intern(ReadOnlySpan<byte> name)
    {
        foreach (var (bytes, text) in Table)
        {
            if (bytes.Length == name.Length && Ascii.EqualsIgnoreCase(bytes, name))
            {
                return text;
            }
        }

        return Encoding.ASCII.GetString(name);
    }

    private static (byte[], string)[] BuildTable(params string[] names) =>
        [.. names.Distinct().Select(n => (Encoding.ASCII.GetBytes(n), n))];
}
