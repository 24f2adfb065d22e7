using System.Text;
using BenchmarkDotNet.Attributes;
using Gatehouse.Http1;

namespace Gatehouse.Bench;

/// <summary>The target canonicalizer: a plain path, a percent-encoded document ID, and re-serialization for forwarding.</summary>
[MemoryDiagnoser]
public class CanonicalTargetBenchmarks
{
    private static readonly byte[] Plain = Encoding.ASCII.GetBytes("/couch/dmedia-0/_changes?feed=continuous&heartbeat=30000&since=now");
    private static readonly byte[] Encoded = Encoding.ASCII.GetBytes("/couch/novacut-0-f7a2c1/_design%2Fprojects/caf%C3%A9%20noir?rev=3-abc");
    private CanonicalTarget _parsed = null!;

    [GlobalSetup]
    public void Setup() => _parsed = CanonicalTarget.Parse(Encoded);

    [Benchmark(Baseline = true)]
    public CanonicalTarget PlainPath() => CanonicalTarget.Parse(Plain);

    [Benchmark]
    public CanonicalTarget EncodedPath() => CanonicalTarget.Parse(Encoded);

    [Benchmark]
    public string ReSerializeWithoutPrefix() => _parsed.ToOriginForm(1);
}
