using System.Threading.Channels;
using Gatehouse.Config;
using Gatehouse.Http1;
using Gatehouse.Model;
using Gatehouse.Policy;
using Gatehouse.Proxy;
using Gatehouse.Wire;
using Microsoft.Extensions.Logging;

namespace Gatehouse.Provenance;

/// <summary>
/// Records who created what through a couchdb route (issue 7), off the request path: the route
/// hands each answered creation to <see cref="Observe"/>, which only queues it; one writer drains
/// the bounded queue into the provenance database with the gateway's own credential, retrying a
/// failed write twice. A failure is logged and never touches the user's request.
/// </summary>
internal sealed class ProvenanceRecorder : IAsyncDisposable
{
    private const int QueueCapacity = 1024;
    private static readonly TimeSpan[] RetryDelays = [TimeSpan.FromMilliseconds(500), TimeSpan.FromSeconds(2)];
    private static readonly TimeSpan DrainTimeout = TimeSpan.FromSeconds(5);

    private readonly Channel<ProvenanceRecord> _queue = Channel.CreateBounded<ProvenanceRecord>(
        new BoundedChannelOptions(QueueCapacity) { SingleReader = true, FullMode = BoundedChannelFullMode.Wait });

    private readonly ProvenanceCouch _couch;
    private readonly ILogger _logger;
    private readonly CancellationTokenSource _stopping = new();
    private readonly Task _writer;

    private ProvenanceRecorder(ProvenanceCouch couch, ILogger logger)
    {
        _couch = couch;
        _logger = logger;
        _writer = Task.Run(WriteAllAsync);
    }

    /// <summary>
    /// The recorder for <paramref name="route"/>, or null when recording is off: no
    /// <c>provenance</c> object in the route and no credential for the default role. An explicit
    /// object without its credential is a config error.
    /// </summary>
    public static ProvenanceRecorder? Create(Route route, CouchEnvironment environment, ILoggerFactory loggers)
    {
        var settings = route.Config?.Provenance;
        var role = settings?.Role ?? ProvenanceConfig.DefaultRole;
        if (!environment.Credentials.TryGetValue(role, out var credential))
        {
            return settings is null
                ? null
                : throw new ConfigException($"stdin: $.couchdb.credentials: no credential for role \"{role}\" named by the provenance of route {route.Prefix}");
        }

        var database = settings?.Database ?? ProvenanceConfig.DefaultDatabase;
        var logger = loggers.CreateLogger("Gatehouse.Provenance");
        ProvenanceLog.Started(logger, database, role);
        return new ProvenanceRecorder(new ProvenanceCouch(environment, credential, database), logger);
    }

    /// <summary>
    /// Called after a couchdb request was forwarded: queues a record when it created a database
    /// (201/202), asked for one that existed (412: claimed) or wrote a design document (201/202).
    /// The status can only be the upstream's: the forwarder's own errors are 502/504.
    /// </summary>
    public void Observe(HttpExchange exchange, Route route, CouchClassification classification)
    {
        var status = exchange.Response.StatusCode;
        var (kind, how) = classification.Access switch
        {
            CouchAccess.Create when status is 201 or 202 => (ProvenanceRecord.DatabaseKind, ProvenanceRecord.Created),
            CouchAccess.Create when status is 412 => (ProvenanceRecord.DatabaseKind, ProvenanceRecord.Claimed),
            CouchAccess.Design when status is 201 or 202 => (ProvenanceRecord.DesignKind, ProvenanceRecord.Created),
            CouchAccess.Delete when status is 200 or 202 => (ProvenanceRecord.DeletionKind, ProvenanceRecord.Deleted),
            _ => (null, null),
        };
        if (kind is null || how is null || classification.Database is not { } database)
        {
            return;
        }

        // After the database: "_design/NAME", whether it came as two segments or one with %2F; an
        // attachment write (issue 17) is recorded as a write of its design document.
        var docId = kind == ProvenanceRecord.DesignKind
            ? string.Join('/', string.Join('/', exchange.Request.Target.Segments.Skip(route.PrefixSegments.Count + 1)).Split('/').Take(2))
            : null;
        Queue(exchange.Principal, kind, database, docId, how);
    }

    /// <summary>
    /// Called when CouchDB took a replication the key asked for (2xx): who started which one. A
    /// cancel is not a creation. Kept apart from databases: a revoke never deletes by this record.
    /// </summary>
    public void ObserveReplication(HttpExchange exchange, ReplicationRequest replication)
    {
        if (!replication.Cancel)
        {
            Queue(exchange.Principal, ProvenanceRecord.ReplicationKind, replication.Target.ToString(), "from " + replication.Source, ProvenanceRecord.Created);
        }
    }

    /// <summary>
    /// Called when CouchDB stored a <c>_replicator</c> document the key created: unlike a
    /// <c>POST /_replicate</c>, something the key holds, which a revoke deletes (that cancels it).
    /// </summary>
    public void ObserveReplicatorDocument(HttpExchange exchange, string documentId) =>
        Queue(exchange.Principal, ProvenanceRecord.ReplicatorDocumentKind, ReplicationBody.ReplicatorDatabase, documentId, ProvenanceRecord.Created);

    private void Queue(Principal principal, string kind, string database, string? docId, string how)
    {
        var holder = HolderOf(principal);
        var record = new ProvenanceRecord
        {
            Id = ProvenanceRecord.IdFor(holder, kind, database, docId),
            Holder = holder,
            Subject = principal.Subject,
            Trust = TrustLabel.Of(principal.Source),
            TrustName = principal.TrustName,
            Kind = kind,
            Database = database,
            DocId = docId,
            How = how,
            At = DateTimeOffset.UtcNow,
        };
        if (!_queue.Writer.TryWrite(record))
        {
            ProvenanceLog.Dropped(_logger, kind, record.Resource, holder);
        }
    }

    /// <summary>The key pin, or "local"/"anonymous" for the principals that have none.</summary>
    public static string HolderOf(Principal principal) =>
        principal.HasKey ? principal.Pin : principal.Source == TrustSource.LocalListener ? "local" : "anonymous";

    public async ValueTask DisposeAsync()
    {
        // Drain what is queued, within a bound; then stop.
        _queue.Writer.TryComplete();
        if (await Task.WhenAny(_writer, Task.Delay(DrainTimeout)).ConfigureAwait(false) != _writer)
        {
            await _stopping.CancelAsync().ConfigureAwait(false);
        }

        try
        {
            await _writer.ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
        }

        if (_queue.Reader.Count > 0)
        {
            ProvenanceLog.Abandoned(_logger, _queue.Reader.Count);
        }

        _couch.Dispose();
        _stopping.Dispose();
    }

    private async Task WriteAllAsync()
    {
        await foreach (var record in _queue.Reader.ReadAllAsync(_stopping.Token).ConfigureAwait(false))
        {
            await WriteAsync(record).ConfigureAwait(false);
        }
    }

    private async Task WriteAsync(ProvenanceRecord record)
    {
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                await _couch.AddAsync(record, _stopping.Token).ConfigureAwait(false);
                ProvenanceLog.Recorded(_logger, record.Holder, record.How, record.Kind, record.Resource);
                return;
            }
            catch (Exception ex) when ((ex is HttpRequestException or TaskCanceledException) && !_stopping.IsCancellationRequested)
            {
                ProvenanceLog.WriteFailed(_logger, record.Kind, record.Resource, record.Holder, attempt, ex.Message);
                if (attempt > RetryDelays.Length)
                {
                    return;
                }

                await Task.Delay(RetryDelays[attempt - 1], _stopping.Token).ConfigureAwait(false);
            }
        }
    }
}
