using Microsoft.Extensions.ObjectPool;

namespace Gatehouse.Http1;

/// <summary>
/// The sets of <see cref="ExchangeParts"/> not in use, shared by every connection of one server.
/// It holds at most as many as were ever in use at once (bounded by <see cref="Capacity"/>), which is
/// the number of requests in flight together, not the number of open connections.
/// </summary>
internal sealed class ExchangePartsPool(Http1Limits limits)
{
    /// <summary>Beyond this many free sets, a returned one is left to the GC.</summary>
    public const int Capacity = 1024;

    private readonly DefaultObjectPool<ExchangeParts> _free = new(new UnbindingPolicy(limits), Capacity);
    /// <summary>Called after each set is given back (tests wait on it; null, and free, otherwise).</summary>
    internal Action? Returned { get; set; }

    public ExchangeParts Rent() => _free.Get();

    /// <summary>Gives <paramref name="parts"/> back; only when no request can still touch them.</summary>
    public void Return(ExchangeParts parts)
    {
        _free.Return(parts);
        Returned?.Invoke();
    }

    /// <summary>A set goes back bound to no connection, so a pooled one keeps no closed connection alive.</summary>
    private sealed class UnbindingPolicy(Http1Limits limits) : PooledObjectPolicy<ExchangeParts>
    {
        public override ExchangeParts Create() => new(limits);

        public override bool Return(ExchangeParts obj)
        {
            obj.Unbind();
            return true;
        }
    }
}
