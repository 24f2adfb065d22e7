using Microsoft.Win32.SafeHandles;

namespace Gatehouse.Http1;

/// <summary>
/// Zero-copy bodies on plain connections (issue 4): the kernel moves file pages to the socket
/// (sendfile(2)) with no copy through user memory. Over TLS every byte must pass the record layer,
/// so there the handler streams through <see cref="GetMemory"/> instead.
/// </summary>
public sealed partial class HttpResponse
{
    /// <summary>
    /// True when <see cref="SendFileAsync"/> may write the body: a plain (non-TLS) connection, a
    /// Content-Length body not yet over, and a response that carries one (not HEAD, not 1xx/204/304).
    /// </summary>
    public bool CanSendFile =>
        _plainSocket is not null
        && ContentLength is not null
        && !_isHead
        && !IsBodyless(StatusCode)
        && _mode is BodyMode.NotStarted or BodyMode.Length;

    /// <summary>
    /// Sends <paramref name="count"/> bytes of <paramref name="file"/> from <paramref name="offset"/>
    /// as the next part of the body, straight from the file to the socket. The head and anything
    /// buffered are flushed first, so the bytes leave in order. The bytes count towards
    /// <see cref="ContentLength"/> only once all of them were sent: a client that goes away or a
    /// short send throws <see cref="IOException"/> and leaves the response unfinished and
    /// <see cref="KeepAlive"/> off, so the connection closes instead of looking complete.
    /// The file handle stays the caller's.
    /// </summary>
    /// <exception cref="InvalidOperationException"><see cref="CanSendFile"/> is false, or the range would overrun the Content-Length.</exception>
    public async ValueTask SendFileAsync(SafeFileHandle file, long offset, long count, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(file);
        ArgumentOutOfRangeException.ThrowIfNegative(offset);
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        if (!CanSendFile)
        {
            throw new InvalidOperationException("this response cannot send a file zero-copy");
        }

        WriteHead();
        if (_bodyBytes + count > ContentLength)
        {
            throw new InvalidOperationException("response body longer than its Content-Length");
        }

        await FlushAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            await SocketFileSender.SendAsync(_plainSocket!, file, offset, count, cancellationToken).ConfigureAwait(false);
        }
        catch
        {
            KeepAlive = false;
            throw;
        }

        _bodyBytes += count;
        HttpMetrics.SendFileBytes.Add(count);
    }
}
