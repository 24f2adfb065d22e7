using System.Buffers;
using System.Text;
using BenchmarkDotNet.Attributes;
using Gatehouse.Http1;

namespace Gatehouse.Bench;

/// <summary>
/// The request-head parser on a typical CouchDB replication request (what PouchDB sends for
/// _bulk_get), as one buffer and split across two segments as a TLS record boundary would.
/// </summary>
[MemoryDiagnoser]
public class ParserBenchmarks
{
    private static readonly byte[] ReplicationRequest = Encoding.ASCII.GetBytes(
        "POST /couch/novacut-0-f7a2c1/_bulk_get?revs=true&attachments=true&latest=true HTTP/1.1\r\n" +
        "Host: laptop.local:8443\r\n" +
        "User-Agent: PouchDB/9.0.0 (Node.js)\r\n" +
        "Accept: application/json\r\n" +
        "Accept-Encoding: gzip, deflate\r\n" +
        "Content-Type: application/json\r\n" +
        "Content-Length: 412\r\n" +
        "Connection: keep-alive\r\n" +
        "\r\n");

    private readonly Http1Limits _limits = new();
    private ReadOnlySequence<byte> _single;
    private ReadOnlySequence<byte> _split;

    [GlobalSetup]
    public void Setup()
    {
        _single = new ReadOnlySequence<byte>(ReplicationRequest);
        _split = Segments.Split(ReplicationRequest, ReplicationRequest.Length / 2);
    }

    [Benchmark(Baseline = true)]
    public Request? SingleSegment() => Parse(_single);

    [Benchmark]
    public Request? TwoSegments() => Parse(_split);

    private Request? Parse(ReadOnlySequence<byte> input)
    {
        var parser = new RequestHeadParser(_limits);
        var reader = new SequenceReader<byte>(input);
        parser.TryParse(ref reader, out var request);
        return request;
    }
}
