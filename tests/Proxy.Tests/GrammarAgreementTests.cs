using System.IO.Pipelines;
using System.Text;
using Gatehouse.Http1;

namespace Gatehouse.Proxy.Tests;

/// <summary>
/// Issue 20: the same chunked bytes must be judged the same whether a client sent them as a
/// request body or an upstream as a response body. The two copies this replaced disagreed on
/// "5;a " (refused from a client, taken from an upstream) and on zero padding (the other way round).
/// </summary>
public sealed class GrammarAgreementTests
{
    public static TheoryData<string> Bodies => new()
    {
        // Grammatical.
        "5\r\nhello\r\n0\r\n\r\n",
        "3\r\nabc\r\n2\r\nde\r\n1\r\nf\r\n0\r\n\r\n",
        "A\r\n0123456789\r\na\r\nabcdefghij\r\n0\r\n\r\n",
        "0005\r\nhello\r\n000\r\n\r\n",
        "000000000000000000005\r\nhello\r\n0\r\n\r\n", // zero padding past 15 digits
        "0\r\n\r\n",
        "5;name=value;flag\r\nhello\r\n0;last=\"yes\"\r\n\r\n",
        "5 ; a = b ;c\r\nhello\r\n0\r\n\r\n",
        "5;q=\"a \\\"quoted\\\" ;value\"\r\nhello\r\n0\r\n\r\n",
        "5;a=b;c=\"q\\\"x\"\r\nhello\r\n6 ; x\r\n world\r\n0\r\nTrailer: t\r\n\r\n",
        "5\r\nhello\r\n0\r\nX-Checksum: abc\r\nX-Other:\tv w \r\n\r\n",
        "2\r\n\r\n\r\n0\r\n\r\n",

        // Not grammatical.
        "5;a \r\nhello\r\n0\r\n\r\n", // whitespace at the end of the line after an extension
        "5;a=b \r\nhello\r\n0\r\n\r\n",
        "1;a=\"q\"\t\r\nx\r\n0\r\n\r\n",
        "5 \r\nhello\r\n0\r\n\r\n",
        "5;\r\nhello\r\n0\r\n\r\n",
        "5;=x\r\nhello\r\n0\r\n\r\n",
        "5;a=\r\nhello\r\n0\r\n\r\n",
        "5;a=\"unbalanced\r\nhello\r\n0\r\n\r\n",
        "5;a=b c\r\nhello\r\n0\r\n\r\n",
        "5\tx\r\nhello\r\n0\r\n\r\n",
        "10000000000000000\r\n",
        "8000000000000000\r\n",
        "-5\r\nhello\r\n0\r\n\r\n",
        "0x5\r\nhello\r\n0\r\n\r\n",
        " 5\r\nhello\r\n0\r\n\r\n",
        "\r\nhello\r\n0\r\n\r\n",
        "5\r\nhelloX\r\n0\r\n\r\n",
        "5\r\nhelloXX0\r\n\r\n",
        "5\r\nhello\n0\r\n\r\n",
        "5\r\nhello\r0\r\n\r\n",
        "5\nhello\r\n0\r\n\r\n",
        "5\r\r\nhello\r\n0\r\n\r\n",
        "5\0\r\nhello\r\n0\r\n\r\n",
        "5\r\nhello\r\n0\r\nbad trailer\r\n\r\n",
        "5\r\nhello\r\n0\r\nX-A : a\r\n\r\n",
        "5\r\nhello\r\n0\r\nX-A: a\r\n folded\r\n\r\n",
        "5\r\nhello\r\n0\r\nX-A: nul\0\r\n\r\n",
        "5\r\nhel",
        "5\r\nhello\r\n0\r\n",
    };

    [Theory]
    [MemberData(nameof(Bodies))]
    public async Task AClientAndAnUpstreamBodyAreJudgedTheSame(string wire)
    {
        var bytes = Encoding.Latin1.GetBytes(wire);
        var client = await DecodeAsClientAsync(bytes);
        var upstream = await DecodeAsUpstreamAsync(bytes);
        Assert.Equal(client, upstream);
    }

    /// <summary>
    /// A small seeded fuzz from both sides: each body above with bytes replaced, inserted or
    /// dropped from the grammar's own alphabet, so the mutants sit near the rules' edges.
    /// </summary>
    [Fact]
    public async Task MutatedBodiesAreJudgedTheSameFromBothSides()
    {
        var alphabet = Encoding.Latin1.GetBytes("0159aAfFgx ;=\"\\\t\r\n\0:-\u007f\u00e9");
        var random = new Random(20);
        var checkedCount = 0;
        foreach (var row in Bodies)
        {
            var seed = Encoding.Latin1.GetBytes(row);
            for (var i = 0; i < 40; i++)
            {
                var mutant = new List<byte>(seed);
                for (var edits = random.Next(1, 4); edits > 0; edits--)
                {
                    var at = random.Next(mutant.Count + 1);
                    var b = alphabet[random.Next(alphabet.Length)];
                    switch (random.Next(3))
                    {
                        case 0 when at < mutant.Count:
                            mutant[at] = b;
                            break;
                        case 1 when at < mutant.Count:
                            mutant.RemoveAt(at);
                            break;
                        default:
                            mutant.Insert(at, b);
                            break;
                    }
                }

                var bytes = mutant.ToArray();
                var client = await DecodeAsClientAsync(bytes);
                var upstream = await DecodeAsUpstreamAsync(bytes);
                Assert.True(client == upstream, $"<{Encoding.Latin1.GetString(bytes)}>: client {client}, upstream {upstream}");
                checkedCount++;
            }
        }

        Assert.True(checkedCount > 1000);
    }

    /// <summary>The decoded body, or "refused" with the data handed on before the refusal.</summary>
    private static async Task<string> DecodeAsClientAsync(byte[] bytes)
    {
        var pipe = await FilledPipeAsync(bytes);
        using var input = new ConnectionInput(pipe.Reader);
        var body = new ChunkedBody(input, TimeSpan.FromSeconds(5), ChunkedUpstreamBody.MaxLineBytes, long.MaxValue, null);
        return await ReadAllAsync(buffer => body.ReadAsync(buffer), e => e is RequestRejectedException);
    }

    private static async Task<string> DecodeAsUpstreamAsync(byte[] bytes)
    {
        var pipe = await FilledPipeAsync(bytes);
        var body = new ChunkedUpstreamBody(pipe.Reader);
        return await ReadAllAsync(buffer => body.ReadAsync(buffer, CancellationToken.None), e => e is UpstreamProtocolException or IOException);
    }

    private static async Task<Pipe> FilledPipeAsync(byte[] bytes)
    {
        var pipe = new Pipe(new PipeOptions(minimumSegmentSize: 16, useSynchronizationContext: false));
        await pipe.Writer.WriteAsync(bytes);
        await pipe.Writer.CompleteAsync();
        return pipe;
    }

    private static async Task<string> ReadAllAsync(Func<Memory<byte>, ValueTask<int>> read, Func<Exception, bool> isRefusal)
    {
        var decoded = new StringBuilder();
        var buffer = new byte[7];
        try
        {
            while (await read(buffer) is var count and > 0)
            {
                decoded.Append(Encoding.Latin1.GetString(buffer, 0, count));
            }
        }
        catch (Exception e) when (isRefusal(e))
        {
            return "refused after <" + decoded + ">";
        }

        return decoded.ToString();
    }
}
