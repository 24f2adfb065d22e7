using System.Buffers;
using System.Security.Cryptography;
using System.Text.Json;
using Gatehouse.Http1;
using Microsoft.Extensions.Logging;
using Microsoft.Win32.SafeHandles;

namespace Gatehouse.Files;

/// <summary>
/// PUT of one file, verified before it becomes visible (issue 4):
/// 1. refuse what cannot fit: no framing (411), a declared length over the store's or the
///    caller's limit (413, before a body byte is read), no root with room (507);
/// 2. stream the body into a fresh temp file under the chosen root's tmp/, hashing as it arrives
///    (a chunked body that runs past the limit: 413, temp file removed, connection closed);
/// 3. the SHA-256 must equal the ID, else 409 with both hashes;
/// 4. fsync the file, rename it into files/ atomically, fsync the folder: 201, or 200 when the
///    file was already there (the same ID means the same bytes);
/// 5. on every other way out (client gone, timeout, shutdown, disk full) the temp file is removed,
///    so nothing partial is ever left under files/ or tmp/.
/// </summary>
internal sealed class FileUpload(FileStore store, ILogger logger)
{
    /// <summary>Body bytes gathered per hash-and-write step; one pooled buffer per upload in flight.</summary>
    private const int ChunkBytes = 64 * 1024;

    // Unverified bytes are private to the gate; once verified the file is for anyone who may read the store.
    private const UnixFileMode TempMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
    private const UnixFileMode FinalMode = TempMode | UnixFileMode.GroupRead | UnixFileMode.OtherRead;

    /// <param name="maxUploadBytes">The caller's own limit (per principal), or null for only the store's.</param>
    public async Task HandleAsync(HttpExchange exchange, string id, long? maxUploadBytes, CancellationToken cancellationToken)
    {
        var request = exchange.Request;
        var response = exchange.Response;
        if (request.Framing == BodyFraming.None)
        {
            await response.SendErrorAsync(411, "a Content-Length or chunked body is required", cancellationToken).ConfigureAwait(false);
            return;
        }

        var declared = request.Framing == BodyFraming.ContentLength ? request.ContentLength : -1;
        var callerLimited = maxUploadBytes < store.Options.MaxUploadBytes;
        var limit = callerLimited ? maxUploadBytes!.Value : store.Options.MaxUploadBytes;
        var overLimit = callerLimited ? "file larger than the upload limit for this key" : "file larger than the upload limit";
        if (declared > limit)
        {
            FilesLog.UploadRefused(logger, id, declared, limit);
            await response.SendErrorAsync(413, overLimit, cancellationToken).ConfigureAwait(false);
            return;
        }

        if (request.ExpectContinue && store.Contains(id))
        {
            // The client waits for 100 Continue before sending: it need not send the bytes at all.
            FilesLog.AlreadyPresent(logger, id, 0);
            await SendStoredAsync(response, 200, id, cancellationToken).ConfigureAwait(false);
            return;
        }

        var root = store.RootWithRoomFor(Math.Max(declared, 0));
        if (root is null)
        {
            await response.SendErrorAsync(507, "not enough free space for this file", cancellationToken).ConfigureAwait(false);
            return;
        }

        var tempPath = root.NewTempFile(id);
        var moved = false;
        long received = 0;
        try
        {
            string? actual;
            bool verified;
            using (var temp = CreateTemp(tempPath))
            {
                (actual, received) = await ReceiveAsync(exchange.Body, temp.SafeFileHandle, limit, exchange.Connection.Buffers.Arrays, cancellationToken).ConfigureAwait(false);
                verified = string.Equals(actual, id, StringComparison.Ordinal);
                if (verified)
                {
                    if (!OperatingSystem.IsWindows())
                    {
                        File.SetUnixFileMode(temp.SafeFileHandle, FinalMode);
                    }

                    // fsync can take a spinning disk hundreds of milliseconds: never on a socket event
                    // thread (the gatehouse executable runs socket completions inline on them).
                    var file = temp;
                    await Task.Run(() => file.Flush(flushToDisk: true), CancellationToken.None).ConfigureAwait(false);
                }
            }

            if (verified)
            {
                moved = await Task.Run(() => MoveIntoPlace(root, tempPath, id), CancellationToken.None).ConfigureAwait(false); // rename + folder fsync
            }

            // Whatever did not become the stored file goes before the answer does: a client that
            // sees a refusal (or "already there") must never find the bytes still in tmp/.
            if (!moved)
            {
                TryDelete(tempPath);
            }

            if (actual is null)
            {
                FilesLog.UploadRefused(logger, id, received, limit);
                response.KeepAlive = false; // the rest of the body is still on its way
                await response.SendErrorAsync(413, overLimit, cancellationToken).ConfigureAwait(false);
                return;
            }

            if (!verified)
            {
                FilesLog.HashMismatch(logger, id, actual);
                await SendMismatchAsync(response, id, actual, cancellationToken).ConfigureAwait(false);
                return;
            }

            if (moved)
            {
                FilesLog.Stored(logger, id, received, root.RootPath);
            }
            else
            {
                FilesLog.AlreadyPresent(logger, id, received);
            }

            await SendStoredAsync(response, moved ? 201 : 200, id, cancellationToken).ConfigureAwait(false);
        }
        catch (IOException ex) when (DiskErrors.IsDiskFull(ex))
        {
            TryDelete(tempPath);
            FilesLog.DiskFull(logger, id, root.RootPath);
            response.KeepAlive = false;
            if (!response.HasStarted)
            {
                await response.SendErrorAsync(507, "the disk is full", cancellationToken).ConfigureAwait(false);
            }
        }
        catch (Exception ex) when (ex is RequestRejectedException or IOException or OperationCanceledException)
        {
            // Client gone, body malformed or stalled, or the server stopping: Http1 answers or closes.
            FilesLog.UploadAborted(logger, id, received, ex.Message);
            throw;
        }
        catch (Exception ex) when (ex is UnauthorizedAccessException)
        {
            FilesLog.UploadFault(logger, ex, id, root.RootPath);
            throw;
        }
        finally
        {
            if (!moved)
            {
                TryDelete(tempPath);
            }
        }
    }

    /// <summary>Reads the whole body into <paramref name="file"/>, hashing it. Hash null: the body passed <paramref name="limit"/>.</summary>
    private static async Task<(string? Hash, long Bytes)> ReceiveAsync(RequestBody body, SafeFileHandle file, long limit, ArrayPool<byte> pool, CancellationToken cancellationToken)
    {
        var buffer = pool.Rent(ChunkBytes);
        try
        {
            using var sha256 = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
            long offset = 0;
            while (true)
            {
                // Fill the buffer before writing: body reads come in TLS-record sizes, disk writes want more.
                var filled = 0;
                int read;
                do
                {
                    read = await body.ReadAsync(buffer.AsMemory(filled, ChunkBytes - filled), cancellationToken).ConfigureAwait(false);
                    filled += read;
                }
                while (read > 0 && filled < ChunkBytes);

                if (filled > 0)
                {
                    if (offset + filled > limit)
                    {
                        return (null, offset + filled);
                    }

                    sha256.AppendData(buffer, 0, filled);
                    await RandomAccess.WriteAsync(file, buffer.AsMemory(0, filled), offset, cancellationToken).ConfigureAwait(false);
                    offset += filled;
                }

                if (read == 0)
                {
                    return (Convert.ToHexStringLower(sha256.GetHashAndReset()), offset);
                }
            }
        }
        finally
        {
            // The buffer held a client's bytes: never hand it on unclean (STYLE.md, pools).
            pool.Return(buffer, clearArray: true);
        }
    }

    private static FileStream CreateTemp(string path)
    {
        var options = new FileStreamOptions
        {
            Mode = FileMode.CreateNew,
            Access = FileAccess.Write,
            Share = FileShare.None,
            Options = FileOptions.Asynchronous,
            BufferSize = 0, // writes go through RandomAccess at offsets; no FileStream buffer
        };
        if (!OperatingSystem.IsWindows())
        {
            options.UnixCreateMode = TempMode;
        }

        return new FileStream(path, options);
    }

    /// <summary>Atomic rename into files/. False when the file is already in the store (any root).</summary>
    private bool MoveIntoPlace(StoreRoot root, string tempPath, string id)
    {
        var folder = root.FolderOf(id);
        lock (store.PlacementLock)
        {
            if (store.Contains(id))
            {
                return false;
            }

            if (!Directory.Exists(folder))
            {
                Directory.CreateDirectory(folder);
                SyncFolder(root.FilesPath);
            }

            File.Move(tempPath, root.PathOf(id), overwrite: false);
        }

        SyncFolder(folder);
        return true;
    }

    private void SyncFolder(string folder)
    {
        if (!DirectorySync.TryFlush(folder) && !OperatingSystem.IsWindows())
        {
            FilesLog.FolderSyncFailed(logger, folder);
        }
    }

    private static void TryDelete(string path)
    {
        try
        {
            File.Delete(path);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            // Left for the next start's tmp/ sweep.
        }
    }

    private static ValueTask SendStoredAsync(HttpResponse response, int status, string id, CancellationToken cancellationToken)
    {
        var body = Json(json =>
        {
            json.WriteString("id"u8, id);
            json.WriteBoolean("created"u8, status == 201);
        });
        return response.SendAsync(status, "application/json", body, cancellationToken);
    }

    /// <summary>409 with both hashes (issue 4), in the usual error shape plus the two fields.</summary>
    private static ValueTask SendMismatchAsync(HttpResponse response, string expected, string actual, CancellationToken cancellationToken)
    {
        var body = Json(json =>
        {
            json.WriteString("error"u8, StatusText.ErrorName(409));
            json.WriteString("reason"u8, "sha256 mismatch");
            json.WriteString("expected"u8, expected);
            json.WriteString("actual"u8, actual);
        });
        return response.SendAsync(409, "application/json", body, cancellationToken);
    }

    private static byte[] Json(Action<Utf8JsonWriter> writeFields)
    {
        var buffer = new ArrayBufferWriter<byte>(192);
        using (var json = new Utf8JsonWriter(buffer))
        {
            json.WriteStartObject();
            writeFields(json);
            json.WriteEndObject();
        }

        return buffer.WrittenSpan.ToArray();
    }
}
