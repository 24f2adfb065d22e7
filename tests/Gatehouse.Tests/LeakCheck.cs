namespace Gatehouse.Tests;

/// <summary>
/// After a scenario, once its connections are closed: every pooled block came back, the store's
/// open file handles are back to their count before it, and no temp file is left (issue 10).
/// Bounded waits, since connections finish on their own tasks after the client has gone.
/// </summary>
internal sealed class LeakCheck
{
    private readonly CountingBufferPools _pools;
    private readonly string _store;
    private readonly int _handlesBefore;

    public LeakCheck(CountingBufferPools pools, string store)
    {
        _pools = pools;
        _store = store;
        _handlesBefore = StoreHandles.Count(store);
    }

    /// <param name="extra">Another condition to wait for (null when it holds), e.g. that the backend's connections ended.</param>
    public async Task AssertNothingLeftAsync(InProcessGateway gateway, Func<string?>? extra = null)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(20);
        string? problem;
        while ((problem = Problem(gateway, extra)) is not null && DateTime.UtcNow < deadline)
        {
            await Task.Delay(20);
        }

        Assert.True(problem is null, problem);
        Assert.Empty(_pools.Faults);
        Assert.True(_pools.Rented > 0, "the scenario rented no pooled buffer: the counting pools were not in use");
    }

    private string? Problem(InProcessGateway gateway, Func<string?>? extra)
    {
        if (gateway.Server.OpenConnections != 0)
        {
            return $"{gateway.Server.OpenConnections} connection(s) still open";
        }

        if (_pools.Outstanding != 0)
        {
            return _pools.Describe();
        }

        var handles = StoreHandles.Count(_store);
        if (handles != _handlesBefore)
        {
            return $"{handles} file handle(s) open in the store, {_handlesBefore} before";
        }

        var temp = Path.Combine(_store, "tmp");
        if (Directory.Exists(temp) && Directory.EnumerateFileSystemEntries(temp).FirstOrDefault() is { } left)
        {
            return $"temp file left: {left}";
        }

        return extra?.Invoke();
    }
}
