using System.Buffers;
using System.Text;
using BenchmarkDotNet.Attributes;
using Gatehouse.Config;
using Gatehouse.Http1;
using Gatehouse.Model;
using Gatehouse.Policy;
using Gatehouse.Wire;

namespace Gatehouse.Bench;

/// <summary>
/// The access decision for a CouchDB replication request (route match, endpoint class, the
/// principal's rules and database patterns), for a device from the user CA and a pinned peer
/// among several rules, plus a refusal.
/// </summary>
[MemoryDiagnoser]
public class PolicyBenchmarks
{
    private const string Config = """
        {
          "listen": [ { "address": "127.0.0.1", "port": 0 } ],
          "tls": { "certificate": "server.crt", "key": "server.key" },
          "routes": [
            { "kind": "couchdb", "name": "couch", "prefix": "/couch/" },
            { "kind": "files", "prefix": "/files/", "stores": [ "store" ] },
            { "kind": "proxy", "name": "app", "prefix": "/app/", "backend": "http://127.0.0.1:3000" }
          ],
          "rules": [
            { "principals": [ "ca:user" ], "role": "device", "couchdb": { "databases": [ "*" ], "allow": [ "pull", "push", "read", "write" ] }, "files": [ "read", "write" ] },
            { "principals": [ "sha256//AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=" ], "role": "peer", "couchdb": { "databases": [ "novacut-0-a*" ], "allow": [ "pull" ] } },
            { "principals": [ "sha256//BBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBB=" ], "role": "peer", "couchdb": { "databases": [ "novacut-0-f7*" ], "allow": [ "pull", "push" ] } },
            { "principals": [ "ca:user" ], "proxy": [ "app" ] }
          ]
        }
        """;

    private readonly Principal _device = new("sha256//DDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDD=", "CN=laptop", TrustSource.CertificateAuthority, "user");
    private readonly Principal _peer = new("sha256//BBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBB=", "CN=friend", TrustSource.PinnedKey, "friend");
    private ConfigPolicy _policy = null!;
    private Request _bulkGet = null!;
    private Request _config = null!;

    [GlobalSetup]
    public void Setup()
    {
        var dir = Directory.CreateTempSubdirectory("gatehouse-bench-");
        try
        {
            var path = Path.Join(dir.FullName, "gatehouse.json");
            File.WriteAllText(path, Config);
            var config = ConfigLoader.Load(path);
            _policy = new ConfigPolicy(new RouteTable(Gatehouse.Model.CompiledConfig.Compile(config).Routes), config.Rules);
        }
        finally
        {
            dir.Delete(recursive: true);
        }

        _bulkGet = Parse("POST /couch/novacut-0-f7a2c1/_bulk_get?revs=true&latest=true HTTP/1.1\r\nHost: h\r\nContent-Length: 2\r\n\r\n");
        _config = Parse("GET /couch/_node/_local/_config HTTP/1.1\r\nHost: h\r\n\r\n");
    }

    [Benchmark(Baseline = true)]
    public AccessDecision DeviceBulkGet() => _policy.Authorize(_device, _bulkGet);

    [Benchmark]
    public AccessDecision PeerBulkGet() => _policy.Authorize(_peer, _bulkGet);

    [Benchmark]
    public AccessDecision PeerRefusedConfig() => _policy.Authorize(_peer, _config);

    internal static Request Parse(string head)
    {
        var reader = new SequenceReader<byte>(new ReadOnlySequence<byte>(Encoding.ASCII.GetBytes(head)));
        if (!new RequestHeadParser(new Http1Limits()).TryParse(ref reader, out var request) || request is null)
        {
            throw new InvalidOperationException("the benchmark's request did not parse");
        }

        return request;
    }
}
