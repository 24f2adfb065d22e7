using System.Text;

namespace Gatehouse.Files.Tests;

/// <summary>A strict little multipart/byteranges reader for checking the server's framing byte for byte.</summary>
internal static class MultipartReader
{
    public sealed record Part(string ContentType, string ContentRange, byte[] Data);

    public static List<Part> Parse(byte[] body, string boundary)
    {
        var parts = new List<Part>();
        var delimiter = Encoding.ASCII.GetBytes("--" + boundary);
        var position = 0;
        while (true)
        {
            // Each delimiter is preceded by CRLF, except the first (empty preamble).
            if (parts.Count > 0 || position > 0)
            {
                Expect(body, ref position, "\r\n"u8);
            }

            Expect(body, ref position, delimiter);
            if (body.AsSpan(position).StartsWith("--"u8))
            {
                position += 2;
                Expect(body, ref position, "\r\n"u8);
                Assert.Equal(body.Length, position);
                return parts;
            }

            Expect(body, ref position, "\r\n"u8);
            var headEnd = body.AsSpan(position).IndexOf("\r\n\r\n"u8);
            Assert.True(headEnd >= 0, "part head not terminated");
            var headers = Encoding.ASCII.GetString(body, position, headEnd).Split("\r\n")
                .Select(line => line.Split(": ", 2))
                .ToDictionary(pair => pair[0], pair => pair[1], StringComparer.OrdinalIgnoreCase);
            position += headEnd + 4;
            var range = headers["Content-Range"];
            var span = range["bytes ".Length..range.IndexOf('/')].Split('-');
            var length = (int)(long.Parse(span[1]) - long.Parse(span[0]) + 1);
            parts.Add(new Part(headers["Content-Type"], range, body.AsSpan(position, length).ToArray()));
            position += length;
        }
    }

    private static void Expect(byte[] body, ref int position, ReadOnlySpan<byte> expected)
    {
        Assert.True(body.AsSpan(position).StartsWith(expected), $"expected '{Encoding.ASCII.GetString(expected)}' at {position}");
        position += expected.Length;
    }
}
