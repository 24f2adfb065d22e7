using System.Globalization;
using System.Text;

namespace Gatehouse.Http1.Tests.Support;

/// <summary>One response as read off the wire by <see cref="RawHttpClient"/>.</summary>
internal sealed class RawResponse
{
    public required string Version { get; init; }

    public required int Status { get; init; }

    public required List<KeyValuePair<string, string>> Headers { get; init; }

    public required byte[] Body { get; init; }

    public string BodyText => Encoding.Latin1.GetString(Body);

    public string? Header(string name) =>
        Headers.Where(h => string.Equals(h.Key, name, StringComparison.OrdinalIgnoreCase)).Select(h => h.Value).FirstOrDefault();

    public bool HasConnectionClose =>
        Headers.Any(h => string.Equals(h.Key, "Connection", StringComparison.OrdinalIgnoreCase)
            && h.Value.Split(',').Any(t => t.Trim().Equals("close", StringComparison.OrdinalIgnoreCase)));

    public override string ToString() => string.Create(CultureInfo.InvariantCulture, $"{Version} {Status} ({Body.Length} body bytes)");

    /// <summary>
    /// Parses one response from the front of <paramref name="data"/>. Returns null when more bytes are
    /// needed (or, with <paramref name="atEnd"/>, a close-delimited body is taken whole).
    /// </summary>
    public static RawResponse? TryParse(List<byte> data, bool headRequest, bool atEnd, out int length)
    {
        length = 0;
        var bytes = data.ToArray();
        var headEnd = IndexOf(bytes, "\r\n\r\n"u8, 0);
        if (headEnd < 0)
        {
            return null;
        }

        var lines = Encoding.Latin1.GetString(bytes, 0, headEnd).Split("\r\n");
        var statusLine = lines[0].Split(' ', 3);
        if (statusLine.Length < 2 || !statusLine[0].StartsWith("HTTP/", StringComparison.Ordinal))
        {
            throw new InvalidDataException("not a status line: " + lines[0]);
        }

        var status = int.Parse(statusLine[1], CultureInfo.InvariantCulture);
        var headers = new List<KeyValuePair<string, string>>();
        foreach (var line in lines.Skip(1))
        {
            var colon = line.IndexOf(':', StringComparison.Ordinal);
            headers.Add(new(line[..colon], line[(colon + 1)..].Trim()));
        }

        var bodyStart = headEnd + 4;
        byte[] body;
        int end;
        var te = headers.FirstOrDefault(h => h.Key.Equals("Transfer-Encoding", StringComparison.OrdinalIgnoreCase)).Value;
        var cl = headers.FirstOrDefault(h => h.Key.Equals("Content-Length", StringComparison.OrdinalIgnoreCase)).Value;
        if (headRequest || status is < 200 or 204 or 304)
        {
            body = [];
            end = bodyStart;
        }
        else if (te is not null)
        {
            var decoded = new List<byte>();
            var at = bodyStart;
            while (true)
            {
                var lineEnd = IndexOf(bytes, "\r\n"u8, at);
                if (lineEnd < 0)
                {
                    return null;
                }

                var size = int.Parse(Encoding.ASCII.GetString(bytes, at, lineEnd - at).Split(';')[0], NumberStyles.HexNumber, CultureInfo.InvariantCulture);
                at = lineEnd + 2;
                if (size == 0)
                {
                    var trailersEnd = IndexOf(bytes, "\r\n"u8, at);
                    while (trailersEnd > at)
                    {
                        at = trailersEnd + 2;
                        trailersEnd = IndexOf(bytes, "\r\n"u8, at);
                    }

                    if (trailersEnd < 0)
                    {
                        return null;
                    }

                    end = trailersEnd + 2;
                    break;
                }

                if (bytes.Length < at + size + 2)
                {
                    return null;
                }

                decoded.AddRange(bytes.AsSpan(at, size));
                at += size + 2;
            }

            body = [.. decoded];
        }
        else if (cl is not null)
        {
            var n = int.Parse(cl, CultureInfo.InvariantCulture);
            if (bytes.Length < bodyStart + n)
            {
                return null;
            }

            body = bytes[bodyStart..(bodyStart + n)];
            end = bodyStart + n;
        }
        else
        {
            if (!atEnd)
            {
                return null;
            }

            body = bytes[bodyStart..];
            end = bytes.Length;
        }

        length = end;
        return new RawResponse { Version = statusLine[0], Status = status, Headers = headers, Body = body };
    }

    private static int IndexOf(byte[] bytes, ReadOnlySpan<byte> value, int from)
    {
        var i = bytes.AsSpan(from).IndexOf(value);
        return i < 0 ? -1 : from + i;
    }
}
