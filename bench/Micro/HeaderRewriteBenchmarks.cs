using BenchmarkDotNet.Attributes;
using Gatehouse.Http1;
using Gatehouse.Proxy;

namespace Gatehouse.Bench;

/// <summary>
/// The forwarder's header rules on a PouchDB request carrying what must not go upstream
/// (Authorization, Cookie, X-Auth-CouchDB-*, X-Forwarded-For, a Connection-named field): which
/// fields pass, and the upstream head written with Host, X-Forwarded-* and Via.
/// </summary>
[MemoryDiagnoser]
public class HeaderRewriteBenchmarks
{
    private readonly List<KeyValuePair<string, string>> _added = [new("Authorization", "Basic ZGV2aWNlOnNlY3JldA==")];
    private Request _request = null!;

    [GlobalSetup]
    public void Setup() => _request = PolicyBenchmarks.Parse(
        "POST /couch/novacut-0-f7a2c1/_bulk_get?revs=true&latest=true HTTP/1.1\r\n" +
        "Host: laptop.local:8443\r\n" +
        "User-Agent: PouchDB/9.0.0 (Node.js)\r\n" +
        "Accept: application/json\r\n" +
        "Content-Type: application/json\r\n" +
        "Content-Length: 412\r\n" +
        "Connection: keep-alive, X-Trace\r\n" +
        "X-Trace: 1\r\n" +
        "Authorization: Basic YWRtaW46YWRtaW4=\r\n" +
        "Cookie: AuthSession=abc\r\n" +
        "X-Auth-CouchDB-Roles: _admin\r\n" +
        "X-Forwarded-For: 10.0.0.1\r\n" +
        "\r\n");

    [Benchmark]
    public int RewriteHead()
    {
        using var head = new RequestHeadWriter(System.Buffers.ArrayPool<byte>.Shared);
        head.RequestLine(_request.Method, "/", "/novacut-0-f7a2c1/_bulk_get?revs=true&latest=true");
        head.Field("Host", "127.0.0.1:5984");
        var connectionTokens = ForwardedHeaders.ConnectionTokens(_request.Headers);
        foreach (var field in _request.Headers)
        {
            if (ForwardedHeaders.IsRequestFieldForwarded(field.Name, connectionTokens, _added))
            {
                head.Field(field.Name, field.Value);
            }
        }

        head.Field("Content-Length", _request.ContentLength);
        head.Field("X-Forwarded-For", "192.0.2.7");
        head.Field("X-Forwarded-Proto", "https");
        head.Field("Via", "1.1 gatehouse");
        foreach (var field in _added)
        {
            head.Field(field.Key, field.Value);
        }

        head.EndOfHead();
        return head.Written.Length;
    }
}
