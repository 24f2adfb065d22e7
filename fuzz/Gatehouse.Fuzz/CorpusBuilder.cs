using System.Security.Cryptography;
using System.Text;
using System.Text.Json;

namespace Gatehouse.Fuzz;

/// <summary>
/// Seeds for the four targets, made from the shared corpora's raw_base64 payloads
/// (llhttp-requests.jsonl, smuggling.jsonl) plus a few hand-written lines:
///   head/   every decoded request (at most <see cref="MaxSeedBytes"/> each)
///   target/ the request-target of each request line, and forms the payloads do not cover
///   chunk/  each chunk-size line found in a chunked body, and edge cases of the grammar
///   body/   everything after the header block of each request that has one
/// Files are named by content hash, so a rerun gives the same folder.
/// </summary>
internal static class CorpusBuilder
{
    private const int MaxSeedBytes = 4096;

    private static readonly string[] ExtraTargets =
    [
        "/", "*", "/a/b/", "/a%2Fb/c?x=1&y=%41", "/%E2%82%AC/%C3%A9?", "http://example.com", "https://example.com:8443/x?y",
        "http://[::1]:80/a", "http://host?q", "/a;b=c/@:!$&'()*+,=/~-._", "/%25/%3F%23", "/a?b?c/d",
    ];

    private static readonly string[] ExtraChunkLines =
    [
        "0", "5", "ff", "7FFFFFFFFFFFFFFF", "8000000000000000", "000000000000000000001", "1;a", "1;a=b", "1 ; a = b",
        "1;a=\"q\\\"x\"", "1;a=\"\";b", "a;name=value;other", "5 ", "5;a ", "5;a=b ", "5;\tx=\"y z\"",
    ];

    public static int Build(string sharedCorpora, string output)
    {
        var requests = new List<byte[]>();
        foreach (var name in new[] { "llhttp-requests.jsonl", "smuggling.jsonl" })
        {
            foreach (var line in File.ReadLines(Path.Combine(sharedCorpora, name)))
            {
                if (string.IsNullOrWhiteSpace(line))
                {
                    continue;
                }

                using var row = JsonDocument.Parse(line);
                if (row.RootElement.TryGetProperty("raw_base64", out var raw) && raw.GetString() is { } text)
                {
                    requests.Add(Convert.FromBase64String(text));
                }
            }
        }

        var head = Write(Path.Combine(output, "head"), requests.Where(r => r.Length is > 0 and <= MaxSeedBytes));
        var target = Write(
            Path.Combine(output, "target"),
            requests.Select(RequestTarget).OfType<byte[]>().Concat(ExtraTargets.Select(Encoding.ASCII.GetBytes)));
        var chunk = Write(
            Path.Combine(output, "chunk"),
            requests.SelectMany(ChunkSizeLines).Concat(ExtraChunkLines.Select(Encoding.ASCII.GetBytes)));
        var body = Write(
            Path.Combine(output, "body"),
            requests.Select(Body).OfType<byte[]>().Concat(ExtraChunkLines.Select(l => Encoding.ASCII.GetBytes(l + "\r\nhello\r\n0\r\n\r\n"))));
        Console.WriteLine($"corpus: {requests.Count} payloads -> head {head}, target {target}, chunk {chunk}, body {body} seeds in {output}");
        return 0;
    }

    private static int Write(string folder, IEnumerable<byte[]> seeds)
    {
        Directory.CreateDirectory(folder);
        var written = new HashSet<string>(StringComparer.Ordinal);
        foreach (var seed in seeds)
        {
            var name = Convert.ToHexStringLower(SHA256.HashData(seed))[..16];
            if (written.Add(name))
            {
                File.WriteAllBytes(Path.Combine(folder, name), seed);
            }
        }

        return written.Count;
    }

    /// <summary>The second space-separated field of the first line, when there is one.</summary>
    private static byte[]? RequestTarget(byte[] request)
    {
        var span = request.AsSpan();
        var end = span.IndexOfAny((byte)'\r', (byte)'\n');
        var line = end < 0 ? span : span[..end];
        var first = line.IndexOf((byte)' ');
        if (first < 0)
        {
            return null;
        }

        var rest = line[(first + 1)..];
        var second = rest.IndexOf((byte)' ');
        var target = second < 0 ? rest : rest[..second];
        return target.IsEmpty || target.Length > MaxSeedBytes ? null : target.ToArray();
    }

    /// <summary>What follows the header block, when anything does.</summary>
    private static byte[]? Body(byte[] request)
    {
        var end = request.AsSpan().IndexOf("\r\n\r\n"u8);
        return end < 0 || end + 4 == request.Length || request.Length - end - 4 > MaxSeedBytes ? null : request[(end + 4)..];
    }

    /// <summary>Lines after the header block that start with a hex digit: the chunk-size lines of chunked bodies.</summary>
    private static IEnumerable<byte[]> ChunkSizeLines(byte[] request)
    {
        var body = request.AsSpan().IndexOf("\r\n\r\n"u8);
        if (body < 0)
        {
            return [];
        }

        var lines = new List<byte[]>();
        var rest = request.AsSpan(body + 4);
        while (!rest.IsEmpty)
        {
            var lf = rest.IndexOf((byte)'\n');
            var line = lf < 0 ? rest : rest[..lf];
            if (line.Length > 0 && line[^1] == (byte)'\r')
            {
                line = line[..^1];
            }

            if (line.Length is > 0 and <= 256 && Uri.IsHexDigit((char)line[0]))
            {
                lines.Add(line.ToArray());
            }

            rest = lf < 0 ? [] : rest[(lf + 1)..];
        }

        return lines;
    }
}
