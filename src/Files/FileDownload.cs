using Gatehouse.Http1;
using Microsoft.Extensions.Logging;
using Microsoft.Win32.SafeHandles;

namespace Gatehouse.Files;

/// <summary>
/// GET and HEAD of one file. In order (RFC 9110 §13.2.2):
/// 1. open it from the first root that has it (404 otherwise);
/// 2. If-None-Match hit → 304;
/// 3. GET with a Range that If-Range allows → 206 single, 206 multipart, or 416;
/// 4. otherwise the whole file, 200.
/// The handle is released as soon as the answer ends, also when the client goes away mid-body.
/// </summary>
internal sealed class FileDownload(FileStore store, ILogger logger)
{
    // Content-addressed: the bytes under an ID never change, so caches may keep them for good (RFC 8246).
    private const string CacheControl = "public, max-age=31536000, immutable";

    public async Task HandleAsync(HttpExchange exchange, string id, CancellationToken cancellationToken)
    {
        var request = exchange.Request;
        var response = exchange.Response;
        using var file = store.TryOpen(id, out var size);
        if (file is null)
        {
            await response.SendErrorAsync(404, "no file with this id", cancellationToken).ConfigureAwait(false);
            return;
        }

        response.Headers.Set("ETag", "\"" + id + "\"");
        response.Headers.Set("Cache-Control", CacheControl);
        response.Headers.Set("Accept-Ranges", "bytes");
        if (EntityTags.NoneMatchHits(request.Headers, id))
        {
            response.StatusCode = 304;
            await response.CompleteAsync(cancellationToken).ConfigureAwait(false);
            return;
        }

        var full = new ByteRange(0, size);
        try
        {
            // RFC 9110 §14.2: Range means something only for GET; one Range field only.
            if (!request.IsHead
                && request.Headers.CountOf(KnownHeaderNames.Range) == 1
                && EntityTags.IfRangeAllowsRange(request.Headers, id))
            {
                var outcome = RangeHeader.Parse(request.Headers[KnownHeaderNames.Range]!, size, store.Options.MaxRanges, out var ranges);
                switch (outcome)
                {
                    case RangeOutcome.Satisfiable when ranges.Length == 1:
                        await SendSingleAsync(file, ranges[0], size, response, cancellationToken).ConfigureAwait(false);
                        return;
                    case RangeOutcome.Satisfiable:
                        await SendMultipartAsync(file, ranges, size, response, cancellationToken).ConfigureAwait(false);
                        return;
                    case RangeOutcome.NotSatisfiable or RangeOutcome.TooManyRanges or RangeOutcome.Overlapping:
                        await SendNotSatisfiableAsync(id, outcome, size, response, cancellationToken).ConfigureAwait(false);
                        return;
                }
            }

            response.Headers.Set("Content-Type", "application/octet-stream");
            response.ContentLength = size;
            if (!request.IsHead)
            {
                await FileSender.SendAsync(file, full, response, cancellationToken).ConfigureAwait(false);
            }
        }
        catch (Exception ex) when (ex is IOException or OperationCanceledException)
        {
            FilesLog.DownloadAborted(logger, id, response.BodyBytesWritten, ex.Message);
            throw;
        }
    }

    private static async Task SendSingleAsync(SafeFileHandle file, ByteRange range, long size, HttpResponse response, CancellationToken cancellationToken)
    {
        response.StatusCode = 206;
        response.Headers.Set("Content-Type", "application/octet-stream");
        response.Headers.Set("Content-Range", FormattableString.Invariant($"bytes {range.Start}-{range.End}/{size}"));
        response.ContentLength = range.Length;
        await FileSender.SendAsync(file, range, response, cancellationToken).ConfigureAwait(false);
    }

    private static async Task SendMultipartAsync(SafeFileHandle file, ByteRange[] ranges, long size, HttpResponse response, CancellationToken cancellationToken)
    {
        var multipart = new MultipartByteRanges(size);
        response.StatusCode = 206;
        response.Headers.Set("Content-Type", multipart.ContentType);
        response.ContentLength = multipart.BodyLength(ranges);
        for (var i = 0; i < ranges.Length; i++)
        {
            var head = response.GetMemory(multipart.MaxPartHeadLength);
            response.Advance(multipart.WritePartHead(head.Span, ranges[i], first: i == 0));
            await FileSender.SendAsync(file, ranges[i], response, cancellationToken).ConfigureAwait(false);
        }

        var trailer = response.GetMemory(multipart.MaxPartHeadLength);
        response.Advance(multipart.WriteTrailer(trailer.Span));
    }

    private async Task SendNotSatisfiableAsync(string id, RangeOutcome outcome, long size, HttpResponse response, CancellationToken cancellationToken)
    {
        var reason = outcome switch
        {
            RangeOutcome.TooManyRanges => "too many ranges",
            RangeOutcome.Overlapping => "overlapping ranges",
            _ => "no range overlaps the file",
        };
        if (outcome != RangeOutcome.NotSatisfiable)
        {
            FilesLog.RangeRefused(logger, id, reason);
        }

        // RFC 9110 §15.5.17: a 416 to a byte-range request carries the current length.
        response.Headers.Set("Content-Range", FormattableString.Invariant($"bytes */{size}"));
        await response.SendErrorAsync(416, reason, cancellationToken).ConfigureAwait(false);
    }
}
