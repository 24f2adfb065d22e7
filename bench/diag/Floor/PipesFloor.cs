using System.Buffers;
using System.Buffers.Text;
using System.IO.Pipelines;
using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Authentication;

namespace Floor;

/// <summary>The floor's loop through pipes made with Gatehouse's options: what the pipes add per request.</summary>
internal static class PipesFloor
{
    public static async Task ServeAsync(Socket client, SslStreamCertificateContext context, IPEndPoint backend)
    {
        client.NoDelay = true;
        try
        {
            using var tls = new SslStream(new NetworkStream(client, ownsSocket: true));
            await tls.AuthenticateAsServerAsync(new SslServerAuthenticationOptions
            {
                ServerCertificateContext = context,
                ClientCertificateRequired = false,
                EnabledSslProtocols = SslProtocols.Tls12 | SslProtocols.Tls13,
            }).ConfigureAwait(false);
            using var upstream = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
            await upstream.ConnectAsync(backend).ConfigureAwait(false);
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
                        var total = headEnd + 4 + ContentLength(head.AsSpan(0, (int)headEnd));
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
        catch (Exception ex) when (ex is IOException or SocketException or AuthenticationException)
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

    private static int ContentLength(ReadOnlySpan<byte> head)
    {
        var at = head.IndexOf("\r\nContent-Length: "u8);
        if (at < 0)
        {
            return 0;
        }

        var digits = head[(at + 18)..];
        var stop = digits.IndexOf("\r\n"u8);
        return Utf8Parser.TryParse(stop < 0 ? digits : digits[..stop], out int value, out _) ? value : 0;
    }
}
