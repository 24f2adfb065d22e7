using System.Collections.Concurrent;
using System.Diagnostics.Tracing;

namespace Gatehouse.Bench.Allocation;

/// <summary>
/// Listens to the runtime's GC allocation-tick events (one per ~100 KB allocated) and counts the
/// type named by each: a sampled picture of which types a run allocates most.
/// </summary>
internal sealed class AllocationSampler : EventListener
{
    private const int GcKeyword = 0x1;
    private const int AllocationTickEventId = 10;
    private readonly ConcurrentDictionary<string, int> _samples = new();
    private volatile bool _recording;

    public void Start() => _recording = true;

    public IReadOnlyList<KeyValuePair<string, int>> Stop()
    {
        _recording = false;
        return [.. _samples.OrderByDescending(pair => pair.Value)];
    }

    protected override void OnEventSourceCreated(EventSource eventSource)
    {
        if (eventSource.Name == "Microsoft-Windows-DotNETRuntime")
        {
            EnableEvents(eventSource, EventLevel.Verbose, (EventKeywords)GcKeyword);
        }
    }

    protected override void OnEventWritten(EventWrittenEventArgs eventData)
    {
        if (!_recording || eventData.EventId != AllocationTickEventId || eventData.PayloadNames is null)
        {
            return;
        }

        var index = eventData.PayloadNames.IndexOf("TypeName");
        if (index >= 0 && eventData.Payload?[index] is string type)
        {
            _samples.AddOrUpdate(type, 1, (_, count) => count + 1);
        }
    }
}
