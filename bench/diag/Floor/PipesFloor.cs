using System.Buffers;
using System.IO.Pipelines;
using System.Net;
using System.Net.Security;
using System.Net.Sockets;

namespace Floor;

/// <summary>The floor's loop through pipes made with Gatehouse's options: what the pipes add per request.</summary>
internal static class PipesFloor
{
    public static async Task ServeAsync(Socket client, SslStreamCertificateContext context, IPEndPoint backend)
    {
        try
        {
            var (tls, upstream) = await Ends.OpenAsync(client, context, backend).ConfigureAwait(false);
            using var ownedTls = tls;
            using var ownedUpstream = upstream;
            using var upstreamStream = new NetworkStream(upstream, ownsSocket: false);
            var reader = PipeReader.Create(tls, new StreamPipeReaderOptions(bufferSize: 16 * 1024, minimumReadSize: 4 * 1024, leaveOpen: true, useZeroByteReads: true));
            var writer = PipeWriter.Create(tls, new StreamPipeWriterOptions(minimumBufferSize: 16 * 1024, leaveOpen: true));
            var answers = PipeReader.Create(upstreamStream, new StreamPipeReaderOptions(bufferSize: 16 * 1024, minimumReadSize: 4 * 1024, leaveOpen: true));
            var head = new byte[16 * 1024];
            while (true)
            {
                var result = await reader.ReadAsync().ConfigureAwait(false);
                var buffer = result.Buffer;
                var end = IndexOfEnd(buffer);
                if (end < 0)
                {
                    if (result.IsCompleted)
                    {
                        return;
                    }

                    reader.AdvanceTo(buffer.Start, buffer.End);
                    continue;
                }

                var length = (int)end + 4;
                buffer.Slice(0, length).CopyTo(head);
                reader.AdvanceTo(buffer.GetPosition(length));
                await upstreamStream.WriteAsync(head.AsMemory(0, length)).ConfigureAwait(false);

                while (true)
                {
                    var answer = await answers.ReadAsync().ConfigureAwait(false);
                    var bytes = answer.Buffer;
                    var headEnd = IndexOfEnd(bytes);
                    if (headEnd >= 0)
                    {
                        bytes.Slice(0, headEnd).CopyTo(head);
                        var total = headEnd + 4 + Ends.ContentLength(head.AsSpan(0, (int)headEnd));
                        if (bytes.Length >= total)
                        {
                            foreach (var segment in bytes.Slice(0, total))
                            {
                                segment.Span.CopyTo(writer.GetSpan(segment.Length));
                                writer.Advance(segment.Length);
                            }

                            answers.AdvanceTo(bytes.GetPosition(total));
                            break;
                        }
                    }

                    if (answer.IsCompleted)
                    {
                        return;
                    }

                    answers.AdvanceTo(bytes.Start, bytes.End);
                }

                await writer.FlushAsync().ConfigureAwait(false);
            }
        }
        catch (Exception ex) when (Ends.IsGone(ex))
        {
            // The client went away: nothing to report for a measurement tool.
        }
    }

    private static long IndexOfEnd(ReadOnlySequence<byte> buffer)
    {
        if (buffer.IsSingleSegment)
        {
            return buffer.FirstSpan.IndexOf("\r\n\r\n"u8);
        }

        var copy = buffer.ToArray();
        return copy.AsSpan().IndexOf("\r\n\r\n"u8);
    }
}
