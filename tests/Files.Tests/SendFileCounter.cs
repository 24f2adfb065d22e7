using System.Diagnostics.Metrics;

namespace Gatehouse.Files.Tests;

/// <summary>
/// Bytes the HTTP layer reports as sent with sendfile (the "gatehouse.response.sendfile.bytes"
/// counter) since this recorder started. The counter is process-wide, so tests that read it run in
/// <see cref="ZeroCopyCollection"/>, alone.
/// </summary>
internal sealed class SendFileCounter : IDisposable
{
    private readonly MeterListener _listener = new();
    private long _bytes;

    public SendFileCounter()
    {
        _listener.InstrumentPublished = (instrument, listener) =>
        {
            if (instrument.Meter.Name == "Gatehouse.Http" && instrument.Name == "gatehouse.response.sendfile.bytes")
            {
                listener.EnableMeasurementEvents(instrument);
            }
        };
        _listener.SetMeasurementEventCallback<long>((_, value, _, _) => Interlocked.Add(ref _bytes, value));
        _listener.Start();
    }

    public long Bytes => Interlocked.Read(ref _bytes);

    public void Dispose() => _listener.Dispose();
}

/// <summary>Tests that read the process-wide sendfile counter: run alone, so no other test's bytes land in it.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class ZeroCopyCollection : ICollectionFixture<TestPki>
{
    public const string Name = "zero-copy";
}
