using System.Buffers;
using System.Text;
using Gatehouse.Http1.Tests.Support;

namespace Gatehouse.Http1.Tests.Parser;

/// <summary>
/// Property (issue 10): a random valid request, cut into random pieces at random points, parses
/// to exactly what the uncut request parses to. Seeds are fixed so a failure reproduces.
/// </summary>
public sealed class RandomSplitPropertyTests
{
    private const string Token = "!#$%&'*+-.^_`|~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
    private const string SegmentChars = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-._~!$&'()*+,;=:@";
    private const string ValueChars = " !\"#$%&'()*+,-./0123456789:;<=>?@ABCDEFGHIJKLMNOPQRSTUVWXYZ[\\]^_`abcdefghijklmnopqrstuvwxyz{|}~\t";
    private static readonly string[] Methods = ["GET", "HEAD", "POST", "PUT", "DELETE", "OPTIONS", "COPY", "PROPFIND"];

    public static TheoryData<int> Seeds()
    {
        var seeds = new TheoryData<int>();
        for (var seed = 1; seed <= 300; seed++)
        {
            seeds.Add(seed);
        }

        return seeds;
    }

    [Theory]
    [MemberData(nameof(Seeds))]
    public void RandomPiecesParseLikeTheWhole(int seed)
    {
        var random = new Random(seed);
        var bytes = Encoding.Latin1.GetBytes(RandomRequest(random));
        var whole = ParsedRequestText.Of(ParserDriver.Whole(bytes));

        for (var attempt = 0; attempt < 5; attempt++)
        {
            var pieces = RandomPieces(random, bytes);
            Assert.Equal(whole, ParsedRequestText.Of(ParseInPieces(pieces, bytes)));
        }

        // A single arbitrary multi-segment sequence (a read straddling TLS records) too.
        var at = random.Next(1, bytes.Length);
        Assert.Equal(whole, ParsedRequestText.Of(ParserDriver.ParseSequence(BufferSegment.Split(bytes, at), null, out _)!));
    }

    /// <summary>Feeds growing prefixes as a connection would receive them, advancing past what was consumed.</summary>
    private static Request ParseInPieces(List<int> ends, byte[] bytes)
    {
        var parser = new RequestHeadParser(new Http1Limits());
        long consumed = 0;
        foreach (var end in ends)
        {
            var reader = new SequenceReader<byte>(new ReadOnlySequence<byte>(bytes, (int)consumed, end - (int)consumed));
            var done = parser.TryParse(ref reader, out var request);
            consumed += reader.Consumed;
            if (done)
            {
                return request!;
            }
        }

        throw new InvalidOperationException("incomplete: " + Bytes.Show(bytes));
    }

    private static List<int> RandomPieces(Random random, byte[] bytes)
    {
        var cuts = new SortedSet<int>();
        var count = random.Next(1, 12);
        for (var i = 0; i < count; i++)
        {
            cuts.Add(random.Next(1, bytes.Length));
        }

        cuts.Add(bytes.Length);
        return [.. cuts];
    }

    private static string RandomRequest(Random random)
    {
        var method = Methods[random.Next(Methods.Length)];
        var path = new StringBuilder();
        var segments = random.Next(0, 6);
        for (var i = 0; i < segments; i++)
        {
            path.Append('/').Append(RandomSegment(random));
        }

        if (path.Length == 0 || random.Next(4) == 0)
        {
            path.Append('/');
        }

        if (random.Next(3) == 0)
        {
            path.Append('?').Append(Pick(random, SegmentChars.Replace("%", string.Empty, StringComparison.Ordinal) + "/?", random.Next(0, 30)));
        }

        var request = new StringBuilder();
        request.Append(method).Append(' ').Append(path).Append(" HTTP/1.1\r\n");
        request.Append("Host: ").Append(random.Next(2) == 0 ? "localhost" : "device.local:8443").Append("\r\n");
        var fields = random.Next(0, 20);
        for (var i = 0; i < fields; i++)
        {
            var value = Pick(random, ValueChars, random.Next(0, 60)).Trim(' ', '\t');
            request.Append("X-").Append(Pick(random, Token, random.Next(1, 20))).Append(':').Append(random.Next(2) == 0 ? " " : string.Empty).Append(value).Append("\r\n");
        }

        switch (random.Next(3))
        {
            case 0:
                request.Append("Content-Length: ").Append(random.Next(0, 100000)).Append("\r\n");
                break;
            case 1:
                request.Append("Transfer-Encoding: chunked\r\n");
                break;
        }

        return request.Append("\r\n").ToString();
    }

    private static string RandomSegment(Random random)
    {
        var segment = new StringBuilder();
        var length = random.Next(1, 16);
        for (var i = 0; i < length; i++)
        {
            if (random.Next(8) == 0)
            {
                // A percent-escape of a printable, non-dot byte (encoded controls and dot segments are refused on purpose).
                var b = random.Next(0x21, 0x7F);
                segment.Append('%').Append(b.ToString("X2", System.Globalization.CultureInfo.InvariantCulture));
            }
            else
            {
                segment.Append(SegmentChars[random.Next(SegmentChars.Length)]);
            }
        }

        var text = segment.ToString();
        return text is "." or ".." ? "x" + text : text;
    }

    private static string Pick(Random random, string alphabet, int length)
    {
        var chars = new char[length];
        for (var i = 0; i < length; i++)
        {
            chars[i] = alphabet[random.Next(alphabet.Length)];
        }

        return new string(chars);
    }
}
