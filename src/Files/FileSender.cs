using Gatehouse.Http1;
using Microsoft.Win32.SafeHandles;

namespace Gatehouse.Files;

/// <summary>
/// Streams a byte range of an open file into a response: each read lands directly in the
/// connection's pooled output buffer (no intermediate copy, no per-request buffer), then the flush
/// hands it to TLS and waits for the client's back-pressure. On a plain (loopback) connection a
/// large range skips user memory altogether: sendfile(2) through <see cref="HttpResponse.SendFileAsync"/>.
/// </summary>
internal static class FileSender
{
    /// <summary>
    /// 64 KiB per read: four full 16 KiB TLS records per flush, large enough that per-chunk costs
    /// (a thread-pool hop for the read, a flush) vanish, small enough to stay in the pipe's pool.
    /// </summary>
    public const int ChunkBytes = 64 * 1024;

    /// <summary>
    /// Below this a range is copied with the head into one write; a sendfile costs its own flush and
    /// system call, which only pays off for more than a buffer's worth (small multipart parts stay copied).
    /// </summary>
    public const int ZeroCopyMinimumBytes = ChunkBytes;

    public static async Task SendAsync(SafeFileHandle file, ByteRange range, HttpResponse response, CancellationToken cancellationToken)
    {
        if (range.Length >= ZeroCopyMinimumBytes && response.CanSendFile)
        {
            await response.SendFileAsync(file, range.Start, range.Length, cancellationToken).ConfigureAwait(false);
            return;
        }

        var offset = range.Start;
        var remaining = range.Length;
        while (remaining > 0)
        {
            var memory = response.GetMemory(ChunkBytes);
            var want = (int)Math.Min(Math.Min(memory.Length, ChunkBytes), remaining);
            var read = await RandomAccess.ReadAsync(file, memory[..want], offset, cancellationToken).ConfigureAwait(false);
            if (read == 0)
            {
                // Files are immutable; a short file means someone truncated it under us. Closing is the only honest end.
                throw new IOException("file ended before its length");
            }

            response.Advance(read);
            offset += read;
            remaining -= read;

            // Throws IOException when the client has gone: the caller's using releases the handle at once.
            await response.FlushAsync(cancellationToken).ConfigureAwait(false);
        }
    }
}
