using System.Buffers;
using System.IO.Pipelines;
using System.Text;
using Gatehouse.Http1;
using Gatehouse.Proxy;

namespace Gatehouse.Fuzz;

/// <summary>
/// Target 4: one chunked body fed from both sides, as a client's request body
/// (<see cref="ChunkedBody"/>) and as an upstream's response body (<see cref="ChunkedUpstreamBody"/>).
/// Both must take or refuse it alike and hand on the same data (issue 20: the two de-chunkers
/// this replaced disagreed on "5;a " and on zero padding).
/// </summary>
internal static class BodyTarget
{
    public static void Run(byte[] input)
    {
        var client = Decode(input, fromClient: true);
        var upstream = Decode(input, fromClient: false);
        if (client != upstream)
        {
            throw new PropertyViolationException(
                $"chunked body <{ChunkTarget.Show(input)}>: from a client {client}, from an upstream {upstream}");
        }
    }

    /// <summary>The decoded data, or "refused after DATA"; anything but the side's own refusal escapes as a finding.</summary>
    private static string Decode(byte[] bytes, bool fromClient)
    {
        var pipe = new Pipe(new PipeOptions(minimumSegmentSize: 64, useSynchronizationContext: false));
        pipe.Writer.Write(bytes);
        pipe.Writer.Complete();
        using var input = new ConnectionInput(pipe.Reader);
        var clientBody = new ChunkedBody(input, TimeSpan.FromSeconds(5), ChunkedUpstreamBody.MaxLineBytes, long.MaxValue, null);
        var upstreamBody = new ChunkedUpstreamBody(pipe.Reader);
        Func<Memory<byte>, ValueTask<int>> read = fromClient
            ? buffer => clientBody.ReadAsync(buffer)
            : buffer => upstreamBody.ReadAsync(buffer, CancellationToken.None);
        var decoded = new StringBuilder();
        var destination = new byte[61];
        try
        {
            // The pipe is complete, so every read finishes synchronously.
            while (read(destination).AsTask().GetAwaiter().GetResult() is var count and > 0)
            {
                decoded.Append(Encoding.Latin1.GetString(destination, 0, count));
            }

            return decoded.ToString();
        }
        catch (Exception e) when (e is RequestRejectedException or UpstreamProtocolException or IOException)
        {
            return "refused after <" + decoded + ">";
        }
    }
}
