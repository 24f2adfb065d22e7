using Gatehouse.Wire;
using Gatehouse.Wire.Async;

namespace Gatehouse.Http1;

/// <summary>
/// The sets of <see cref="ExchangeParts"/> not in use, shared by every connection of one server.
/// It holds at most as many as were ever in use at once (bounded by <see cref="Capacity"/>), which is
/// the number of requests in flight together, not the number of open connections.
/// </summary>
internal sealed class ExchangePartsPool(Limits limits)
{
    /// <summary>Beyond this many free sets, a returned one is left to the GC.</summary>
    public const int Capacity = 1024;

    private readonly BoundedFreeList<ExchangeParts> _free = new(Capacity);

    /// <summary>Free sets held now (tests).</summary>
    internal int Count => _free.Count;

    public ExchangeParts Rent() => _free.TryTake(out var parts) ? parts : new ExchangeParts(limits);

    /// <summary>Gives <paramref name="parts"/> back; only when no request can still touch them.</summary>
    public void Return(ExchangeParts parts)
    {
        parts.Unbind();
        _free.TryAdd(parts);
    }
}
