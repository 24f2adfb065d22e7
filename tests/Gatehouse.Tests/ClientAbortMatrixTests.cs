using System.Net;
using System.Net.Http;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using System.Text.Json;
using Gatehouse.Config;
using Gatehouse.Hosting;
using Gatehouse.Wire;

namespace Gatehouse.Tests;

public enum AbortTarget
{
    Proxy,
    CouchDb,
    FileDownload,
    FileUpload,
    WebSocketTunnel,
}

public enum AbortPhase
{
    TlsHandshake,
    RequestHead,
    ContentLengthBody,
    ChunkedBody,
    AwaitingResponse,
    ResponseBody,
}

public enum AbortStyle
{
    /// <summary>SO_LINGER 0 then close: the kernel sends RST.</summary>
    Reset,

    /// <summary>A plain close (FIN), without a TLS close_notify.</summary>
    Close,
}

/// <summary>
/// Issue 10, faults: a client that goes away at every phase of every kind of exchange — during the
/// TLS handshake, inside the request head, inside a Content-Length or chunked body, while waiting
/// for the answer, inside the answer (or an open WebSocket tunnel) — by reset or by plain close.
/// Each cell: the server survives and serves the next request on a fresh connection, every pooled
/// buffer comes back, no store file handle or temp file is left, and the backend never sees a dirty
/// upstream connection (one left mid-request is closed; none carries a malformed request).
/// </summary>
public sealed class ClientAbortMatrixTests
{
    private const int UploadBytes = 4 << 20;
    private const int DownloadBytes = 8 << 20;
    private static readonly byte[] s_upload = RandomNumberGenerator.GetBytes(UploadBytes);
    private static readonly string s_uploadId = Convert.ToHexStringLower(SHA256.HashData(s_upload));

    // A CouchDB document write is read as JSON on its way (issue 17): same size, but a JSON object.
    private static readonly byte[] s_couchUpload = JsonOfSize(UploadBytes);
    private static readonly byte[] s_download = RandomNumberGenerator.GetBytes(DownloadBytes);
    private static readonly string s_downloadId = Convert.ToHexStringLower(SHA256.HashData(s_download));

    public static TheoryData<AbortTarget, AbortPhase, AbortStyle> Cells()
    {
        var cells = new TheoryData<AbortTarget, AbortPhase, AbortStyle>();
        foreach (var target in Enum.GetValues<AbortTarget>())
        {
            foreach (var phase in Enum.GetValues<AbortPhase>())
            {
                if (!Applies(target, phase))
                {
                    continue;
                }

                foreach (var style in Enum.GetValues<AbortStyle>())
                {
                    cells.Add(target, phase, style);
                }
            }
        }

        return cells;
    }

    /// <summary>Downloads and WebSocket upgrades have no request body; an upload's answer is a few bytes of JSON.</summary>
    private static bool Applies(AbortTarget target, AbortPhase phase) => (target, phase) switch
    {
        (AbortTarget.FileDownload or AbortTarget.WebSocketTunnel, AbortPhase.ContentLengthBody or AbortPhase.ChunkedBody) => false,
        (AbortTarget.FileUpload, AbortPhase.ResponseBody) => false,
        _ => true,
    };

    [Theory]
    [MemberData(nameof(Cells))]
    public async Task ClientAbortLeavesTheServerWholeAndNothingBehind(AbortTarget target, AbortPhase phase, AbortStyle style)
    {
        await using var backend = new AbortProbeBackend();
        var pools = new CountingBufferPools();
        using var logs = new CapturedLogs();
        await using var gateway = await StartGatewayAsync(backend.Port, pools, logs);
        var store = gateway.Dir.File("store");
        WriteStoredFile(store, s_downloadId, s_download);
        var leaks = new LeakCheck(pools, store);
        using var client = CertificateFactory.IssueClient(gateway.Ca, "alice-laptop");

        await AbortAsync(gateway, backend, client, target, phase, style);
        await NextRequestWorksAsync(gateway, client, target);

        // A request held by the backend is not released: the gateway must notice the client left
        // and close the upstream connection itself, not hold it until the header timeout.
        await leaks.AssertNothingLeftAsync(gateway, () => backend.Busy.Count == 0 ? null : "backend connection still mid-request: " + string.Join("; ", backend.Busy));
        backend.Release();
        Assert.Empty(backend.Faults);
        Assert.DoesNotContain("Error ", logs.Text, StringComparison.Ordinal);
        Assert.DoesNotContain("Critical ", logs.Text, StringComparison.Ordinal);
        if (target == AbortTarget.FileUpload)
        {
            // Nothing partial is ever visible: the file is there whole, or not at all.
            var stored = Path.Combine(store, "files", s_uploadId[..2], s_uploadId[2..]);
            Assert.True(!File.Exists(stored) || SHA256.HashData(File.ReadAllBytes(stored)).AsSpan().SequenceEqual(Convert.FromHexString(s_uploadId)));
        }
    }

    private static async Task AbortAsync(InProcessGateway gateway, AbortProbeBackend backend, X509Certificate2 client, AbortTarget target, AbortPhase phase, AbortStyle style)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        var token = timeout.Token;
        var tcp = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        await tcp.ConnectAsync(IPAddress.Loopback, gateway.Port, token);
        void Abort()
        {
            if (style == AbortStyle.Reset)
            {
                tcp.LingerState = new LingerOption(true, 0);
            }

            tcp.Close();
        }

        if (phase == AbortPhase.TlsHandshake)
        {
            // TLS 1.3: the first write is the ClientHello, the second the client's certificate flight.
            // Cutting there leaves the server mid-handshake, waiting for the client's Finished.
            var cut = new CutOnWrite(new NetworkStream(tcp, ownsSocket: false), writesAllowed: 1, Abort);
            using var handshake = new SslStream(cut);
            await Assert.ThrowsAnyAsync<Exception>(() => handshake.AuthenticateAsClientAsync(ClientOptions(client), token));
            return;
        }

        using var tls = new SslStream(new NetworkStream(tcp, ownsSocket: false));
        await tls.AuthenticateAsClientAsync(ClientOptions(client), token);
        var (head, body) = Request(target, phase);
        if (phase == AbortPhase.RequestHead)
        {
            await tls.WriteAsync(head.AsMemory(0, head.Length / 2), token);
            await tls.FlushAsync(token);
            Abort();
            return;
        }

        await tls.WriteAsync(head, token);
        switch (phase)
        {
            case AbortPhase.ContentLengthBody:
                await tls.WriteAsync(body.AsMemory(0, body.Length / 4), token);
                await WaitUntilInFlightAsync(gateway, backend, target, token);
                break;
            case AbortPhase.ChunkedBody:
                for (var offset = 0; offset < body.Length / 4; offset += 16 * 1024)
                {
                    await tls.WriteAsync(Encoding.ASCII.GetBytes($"{16 * 1024:x}\r\n"), token);
                    await tls.WriteAsync(body.AsMemory(offset, 16 * 1024), token);
                    await tls.WriteAsync("\r\n"u8.ToArray(), token);
                }

                await tls.WriteAsync("4000\r\nhalf a chunk"u8.ToArray(), token);
                await WaitUntilInFlightAsync(gateway, backend, target, token);
                break;
            case AbortPhase.AwaitingResponse:
                await tls.WriteAsync(body, token);
                await tls.FlushAsync(token);
                if (target is AbortTarget.Proxy or AbortTarget.CouchDb or AbortTarget.WebSocketTunnel)
                {
                    await backend.FirstHeadReceived.WaitAsync(token); // held there
                }

                break;
            case AbortPhase.ResponseBody:
                await tls.WriteAsync(body, token);
                await ReadAtLeastAsync(tls, 64 * 1024, token);
                break;
        }

        Abort();
    }

    /// <summary>The request for a cell: its head, and the body the phase sends (part of it, or all).</summary>
    private static (byte[] Head, byte[] Body) Request(AbortTarget target, AbortPhase phase)
    {
        var chunked = phase == AbortPhase.ChunkedBody;
        var framing = chunked ? "Transfer-Encoding: chunked" : $"Content-Length: {UploadBytes}";
        string head = (target, phase) switch
        {
            (AbortTarget.FileDownload, _) => $"GET /files/{s_downloadId} HTTP/1.1\r\nHost: localhost\r\n\r\n",
            (AbortTarget.FileUpload, _) => $"PUT /files/{s_uploadId} HTTP/1.1\r\nHost: localhost\r\n{framing}\r\n\r\n",
            (AbortTarget.WebSocketTunnel, _) => $"GET /app/{(phase == AbortPhase.AwaitingResponse ? "slow" : "ws")} HTTP/1.1\r\nHost: localhost\r\n"
                + "Connection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n",
            (_, AbortPhase.AwaitingResponse) => $"GET {Base(target)}slow HTTP/1.1\r\nHost: localhost\r\n\r\n",
            (_, AbortPhase.ResponseBody) => $"GET {Base(target)}big HTTP/1.1\r\nHost: localhost\r\n\r\n",
            _ => $"PUT {Base(target)}doc HTTP/1.1\r\nHost: localhost\r\n{framing}\r\n\r\n",
        };
        var hasBody = target == AbortTarget.FileUpload || phase is AbortPhase.ContentLengthBody or AbortPhase.ChunkedBody || (phase == AbortPhase.RequestHead && target != AbortTarget.FileDownload && target != AbortTarget.WebSocketTunnel);
        return (Encoding.ASCII.GetBytes(head), hasBody ? (target == AbortTarget.CouchDb ? s_couchUpload : s_upload) : []);
    }

    private static string Base(AbortTarget target) => target == AbortTarget.CouchDb ? "/couch/db/" : "/app/";

    /// <summary>The body is on its way: the upload's temp file exists, or the forward's head reached the backend.</summary>
    private static async Task WaitUntilInFlightAsync(InProcessGateway gateway, AbortProbeBackend backend, AbortTarget target, CancellationToken token)
    {
        if (target != AbortTarget.FileUpload)
        {
            await backend.FirstHeadReceived.WaitAsync(token);
            return;
        }

        var temp = gateway.Dir.File("store/tmp");
        while (!Directory.Exists(temp) || !Directory.EnumerateFileSystemEntries(temp).Any())
        {
            await Task.Delay(10, token);
        }
    }

    private static async Task ReadAtLeastAsync(Stream stream, int count, CancellationToken token)
    {
        var buffer = new byte[16 * 1024];
        for (var total = 0; total < count;)
        {
            var read = await stream.ReadAsync(buffer, token);
            Assert.True(read > 0, $"the answer ended after {total} bytes");
            total += read;
        }
    }

    private static async Task NextRequestWorksAsync(InProcessGateway gateway, X509Certificate2 client, AbortTarget target)
    {
        if (target == AbortTarget.WebSocketTunnel)
        {
            using var tcp = new TcpClient();
            await tcp.ConnectAsync(IPAddress.Loopback, gateway.Port);
            await using var tls = new SslStream(tcp.GetStream());
            await tls.AuthenticateAsClientAsync(ClientOptions(client));
            var (head, _) = Request(target, AbortPhase.ResponseBody);
            await tls.WriteAsync(head);
            var buffer = new byte[12];
            await tls.ReadExactlyAsync(buffer);
            Assert.Equal("HTTP/1.1 101", Encoding.ASCII.GetString(buffer));
            return;
        }

        using var http = gateway.CreateClient(client);
        switch (target)
        {
            case AbortTarget.FileDownload:
                Assert.Equal(s_download, await http.GetByteArrayAsync($"/files/{s_downloadId}"));
                break;
            case AbortTarget.FileUpload:
                using (var put = await http.PutAsync($"/files/{s_uploadId}", new ByteArrayContent(s_upload)))
                {
                    Assert.True(put.StatusCode is HttpStatusCode.Created or HttpStatusCode.OK, $"upload answered {put.StatusCode}");
                }

                break;
            default:
                Assert.Equal("ok", await http.GetStringAsync($"{Base(target)}doc"));
                var small = target == AbortTarget.CouchDb ? JsonOfSize(100_000) : s_upload.AsSpan(0, 100_000).ToArray();
                using (var put = await http.PutAsync($"{Base(target)}doc", new ByteArrayContent(small)))
                {
                    Assert.Equal(HttpStatusCode.OK, put.StatusCode);
                }

                break;
        }
    }

    /// <summary>A JSON object of exactly <paramref name="size"/> bytes.</summary>
    private static byte[] JsonOfSize(int size) => Encoding.ASCII.GetBytes("{\"pad\":\"" + new string('a', size - 10) + "\"}");

    private static SslClientAuthenticationOptions ClientOptions(X509Certificate2 client) => new()
    {
        TargetHost = "localhost",
        ClientCertificates = [client],
        EnabledSslProtocols = System.Security.Authentication.SslProtocols.Tls13,
        RemoteCertificateValidationCallback = (_, _, _, _) => true,
    };

    private static void WriteStoredFile(string store, string id, byte[] bytes)
    {
        var folder = Path.Combine(store, "files", id[..2]);
        Directory.CreateDirectory(folder);
        File.WriteAllBytes(Path.Combine(folder, id[2..]), bytes);
    }

    private static Task<InProcessGateway> StartGatewayAsync(int backendPort, CountingBufferPools pools, CapturedLogs logs)
    {
        var environment = JsonSerializer.Deserialize(
            $$"""{ "couchdb": { "url": "http://127.0.0.1:{{backendPort}}/", "credentials": { "device": { "username": "device", "password": "device-secret" } } } }""",
            ConfigJsonContext.Default.StdinEnvironment);
        var config = $$"""
            {
              "listen": [ { "address": "::", "port": 0 } ],
              "tls": { "certificate": "server.crt", "key": "server.key" },
              "trust": { "cas": [ { "name": "user", "certificate": "ca.crt" } ] },
              "routes": [
                { "kind": "files", "prefix": "/files/", "stores": [ "store" ] },
                { "kind": "couchdb", "prefix": "/couch/" },
                { "kind": "proxy", "name": "app", "prefix": "/app/", "backend": "http://127.0.0.1:{{backendPort}}", "webSockets": true }
              ],
              "rules": [ { "principals": [ "ca:user" ], "role": "device", "files": [ "read", "write" ], "proxy": [ "app" ],
                           "couchdb": { "databases": [ "*" ], "allow": [ "pull", "push", "read", "write", "create" ] } } ],
              "limits": { "handshakeTimeout": 5 }
            }
            """;
        return InProcessGateway.StartAsync(
            configJson: config,
            environment: environment,
            options: new GatehouseServerOptions { Buffers = pools.Pools, Loggers = logs.Factory });
    }

    /// <summary>Passes the first <c>writesAllowed</c> writes, then aborts the connection instead of the next.</summary>
    private sealed class CutOnWrite(Stream inner, int writesAllowed, Action abort) : Stream
    {
        private int _writes;

        public override bool CanRead => true;

        public override bool CanSeek => false;

        public override bool CanWrite => true;

        public override long Length => throw new NotSupportedException();

        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

        public override int Read(byte[] buffer, int offset, int count) => inner.Read(buffer, offset, count);

        public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) => inner.ReadAsync(buffer, cancellationToken);

        public override void Write(byte[] buffer, int offset, int count) => WriteAsync(buffer.AsMemory(offset, count)).AsTask().GetAwaiter().GetResult();

        public override async ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
        {
            if (++_writes > writesAllowed)
            {
                abort();
                throw new IOException("connection cut by the test");
            }

            await inner.WriteAsync(buffer, cancellationToken);
        }

        public override void Flush() => inner.Flush();

        public override Task FlushAsync(CancellationToken cancellationToken) => inner.FlushAsync(cancellationToken);

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();
    }
}
