namespace Gatehouse.Observability;

/// <summary>One refused request, as the status page shows it: never the query (it may carry secrets).</summary>
internal readonly record struct Refusal(DateTimeOffset Time, string Principal, string Method, string Path, int Status, string Reason);

/// <summary>
/// The last refusals (issue 19 item 5), for a person asking "why was I refused?" on the status
/// page: a fixed ring, so a flood of refusals costs the same memory as one.
/// </summary>
internal sealed class RecentRefusals
{
    public const int Capacity = 50;
    private const int MaxPathLength = 200;

    private readonly Refusal[] _ring = new Refusal[Capacity];
    private readonly Lock _lock = new();
    private long _count;

    public void Add(string principal, string method, string path, int status, string reason)
    {
        var shown = path.Length > MaxPathLength ? path[..MaxPathLength] + "…" : path;
        lock (_lock)
        {
            _ring[_count % Capacity] = new Refusal(DateTimeOffset.UtcNow, principal, method, shown, status, reason);
            _count++;
        }
    }

    /// <summary>Newest first.</summary>
    public IReadOnlyList<Refusal> Snapshot()
    {
        lock (_lock)
        {
            var held = (int)Math.Min(_count, Capacity);
            var list = new Refusal[held];
            for (var i = 0; i < held; i++)
            {
                list[i] = _ring[(_count - 1 - i) % Capacity];
            }

            return list;
        }
    }
}
