using Microsoft.Extensions.Logging;

namespace Gatehouse.Files;

/// <summary>Every log line of the Files layer. Client disconnects are Debug; refusals Information; faults Warning.</summary>
internal static partial class FilesLog
{
    [LoggerMessage(1, LogLevel.Information, "stored {Id} ({Bytes} bytes) in {Root}")]
    public static partial void Stored(ILogger logger, string id, long bytes, string root);

    [LoggerMessage(2, LogLevel.Information, "upload of {Id} already present ({Bytes} bytes received)")]
    public static partial void AlreadyPresent(ILogger logger, string id, long bytes);

    [LoggerMessage(3, LogLevel.Information, "upload of {Id} refused: sha256 was {Actual}")]
    public static partial void HashMismatch(ILogger logger, string id, string actual);

    [LoggerMessage(4, LogLevel.Information, "upload of {Id} ended after {Bytes} bytes: {Reason}; temp file removed")]
    public static partial void UploadAborted(ILogger logger, string id, long bytes, string reason);

    [LoggerMessage(5, LogLevel.Warning, "upload of {Id} refused: disk full under {Root}")]
    public static partial void DiskFull(ILogger logger, string id, string root);

    [LoggerMessage(6, LogLevel.Information, "range for {Id} refused: {Reason}")]
    public static partial void RangeRefused(ILogger logger, string id, string reason);

    [LoggerMessage(7, LogLevel.Debug, "download of {Id} ended by the client after {Bytes} bytes: {Message}")]
    public static partial void DownloadAborted(ILogger logger, string id, long bytes, string message);

    [LoggerMessage(8, LogLevel.Warning, "could not fsync folder {Folder}")]
    public static partial void FolderSyncFailed(ILogger logger, string folder);

    [LoggerMessage(9, LogLevel.Information, "deleted {Id}")]
    public static partial void Deleted(ILogger logger, string id);

    [LoggerMessage(10, LogLevel.Warning, "upload of {Id} failed writing under {Root}")]
    public static partial void UploadFault(ILogger logger, Exception exception, string id, string root);

    [LoggerMessage(11, LogLevel.Information, "upload of {Id} refused at {Bytes} bytes: over the upload limit of {Limit} bytes")]
    public static partial void UploadRefused(ILogger logger, string id, long bytes, long limit);
}
