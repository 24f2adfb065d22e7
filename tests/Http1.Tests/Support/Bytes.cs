using System.Text;

namespace Gatehouse.Http1.Tests.Support;

internal static class Bytes
{
    /// <summary>Latin-1, so every char below 256 is exactly one byte on the wire.</summary>
    public static byte[] Of(string text) => Encoding.Latin1.GetBytes(text);

    public static string Show(ReadOnlySpan<byte> bytes) =>
        Encoding.Latin1.GetString(bytes).Replace("\r", "\\r", StringComparison.Ordinal).Replace("\n", "\\n", StringComparison.Ordinal).Replace("\0", "\\0", StringComparison.Ordinal);
}
