using System.Collections.Concurrent;

namespace Gatehouse.WebSockets.Tests.Support;

/// <summary>What a server-side handler saw, keyed by the <c>?id=</c> the test put in its URL.</summary>
public sealed class Probe
{
    private long _sends;

    public long CompletedSends => Interlocked.Read(ref _sends);

    public TaskCompletionSource<Exception?> Ended { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public TaskCompletionSource Started { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public void Sent() => Interlocked.Increment(ref _sends);
}

public sealed class Probes
{
    private readonly ConcurrentDictionary<string, Probe> _probes = new();

    public Probe this[string id] => _probes.GetOrAdd(id, _ => new Probe());

    public static string NewId() => Guid.NewGuid().ToString("N");
}
