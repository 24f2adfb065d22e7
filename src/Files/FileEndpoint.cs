using Gatehouse.Http1;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Gatehouse.Files;

/// <summary>
/// <c>/files/&lt;id&gt;</c>: GET and HEAD (ranged, conditional), PUT (verified upload), DELETE.
/// The executable routes here with the segments after its prefix and the rights its policy granted
/// the principal. Checks run in this order, each before anything touches the disk:
/// method (405 with Allow), right (403), ID (400).
/// </summary>
public sealed class FileEndpoint
{
    private const string Allowed = "GET, HEAD, PUT, DELETE";

    private readonly FileStore _store;
    private readonly ILogger _logger;
    private readonly FileDownload _download;
    private readonly FileUpload _upload;

    public FileEndpoint(FileStore store, ILogger? logger = null)
    {
        ArgumentNullException.ThrowIfNull(store);
        _store = store;
        _logger = logger ?? NullLogger.Instance;
        _download = new FileDownload(store, _logger);
        _upload = new FileUpload(store, _logger);
    }

    /// <param name="exchange">The request and its response.</param>
    /// <param name="segments">The target's decoded segments after the route prefix; exactly one, the ID.</param>
    /// <param name="rights">What the policy grants the caller on files.</param>
    /// <param name="cancellationToken">Ends a transfer in progress (server shutdown); its temp file is removed.</param>
    public Task HandleAsync(HttpExchange exchange, IReadOnlyList<string> segments, FileRights rights, CancellationToken cancellationToken) =>
        HandleAsync(exchange, segments, rights, maxUploadBytes: null, cancellationToken);

    /// <param name="exchange">The request and its response.</param>
    /// <param name="segments">The target's decoded segments after the route prefix; exactly one, the ID.</param>
    /// <param name="rights">What the policy grants the caller on files.</param>
    /// <param name="maxUploadBytes">
    /// The caller's own upload limit (per principal, from the policy), on top of the store's
    /// <see cref="FileStoreOptions.MaxUploadBytes"/>; null when the caller has none.
    /// </param>
    /// <param name="cancellationToken">Ends a transfer in progress (server shutdown); its temp file is removed.</param>
    public async Task HandleAsync(HttpExchange exchange, IReadOnlyList<string> segments, FileRights rights, long? maxUploadBytes, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(exchange);
        ArgumentNullException.ThrowIfNull(segments);
        var response = exchange.Response;
        var method = exchange.Request.Method;
        var needed = FileMethodRights.For(method);
        if (needed == FileRights.None)
        {
            response.Headers.Set("Allow", Allowed);
            await response.SendErrorAsync(405, "files answer GET, HEAD, PUT and DELETE", cancellationToken).ConfigureAwait(false);
            return;
        }

        if ((rights & needed) == 0)
        {
            await response.SendErrorAsync(403, needed switch
            {
                FileRights.Read => "no read access to files",
                FileRights.Write => "no write access to files",
                _ => "no delete access to files",
            }, cancellationToken).ConfigureAwait(false);
            return;
        }

        // The ID is joined into a path, so it is checked before any file call (issue 4).
        if (segments.Count != 1 || !FileId.IsValid(segments[0]))
        {
            await response.SendErrorAsync(400, "file id must be 64 lowercase hex characters", cancellationToken).ConfigureAwait(false);
            return;
        }

        var id = segments[0];
        switch (needed)
        {
            case FileRights.Read:
                await _download.HandleAsync(exchange, id, cancellationToken).ConfigureAwait(false);
                break;
            case FileRights.Write:
                await _upload.HandleAsync(exchange, id, maxUploadBytes, cancellationToken).ConfigureAwait(false);
                break;
            default:
                await DeleteAsync(response, id, cancellationToken).ConfigureAwait(false);
                break;
        }
    }

    private async Task DeleteAsync(HttpResponse response, string id, CancellationToken cancellationToken)
    {
        if (!_store.Delete(id))
        {
            await response.SendErrorAsync(404, "no file with this id", cancellationToken).ConfigureAwait(false);
            return;
        }

        FilesLog.Deleted(_logger, id);
        response.StatusCode = 204;
        await response.CompleteAsync(cancellationToken).ConfigureAwait(false);
    }
}
