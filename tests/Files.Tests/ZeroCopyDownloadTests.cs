using System.Net;
using System.Net.Http.Headers;
using System.Net.Sockets;
using System.Text;

namespace Gatehouse.Files.Tests;

/// <summary>
/// Issue 4: on a plain loopback listener a download goes from the file to the socket with
/// sendfile(2); over TLS it never does. The sendfile counter proves which path ran.
/// </summary>
[Collection(ZeroCopyCollection.Name)]
public sealed class ZeroCopyDownloadTests(TestPki pki)
{
    private const int Size = 4 << 20;

    [Fact]
    public async Task PlainListenerSendsAWholeFileWithSendfile()
    {
        await using var server = FileServer.Start(pki, plain: true);
        var data = FileServer.RandomBytes(Size);
        var id = server.Seed(data);
        var client = server.PlainClient();
        using var counter = new SendFileCounter();

        // Twice on one keep-alive connection: the accounting leaves the connection fit for the next answer.
        for (var i = 1; i <= 2; i++)
        {
            using var response = await client.GetAsync($"files/{id}");
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            Assert.Equal(Size, response.Content.Headers.ContentLength);
            Assert.Equal(data, await response.Content.ReadAsByteArrayAsync());
            await AssertSentWithSendfileAsync(counter, (long)i * Size);
        }
    }

    [Fact]
    public async Task PlainListenerSendsASingleRangeWithSendfile()
    {
        await using var server = FileServer.Start(pki, plain: true);
        var data = FileServer.RandomBytes(Size);
        var id = server.Seed(data);
        using var counter = new SendFileCounter();
        using var request = new HttpRequestMessage(HttpMethod.Get, $"files/{id}");
        request.Headers.Range = new RangeHeaderValue(1001, 1001 + 300_000 - 1);

        using var response = await server.PlainClient().SendAsync(request);

        Assert.Equal(HttpStatusCode.PartialContent, response.StatusCode);
        Assert.Equal($"bytes 1001-301000/{Size}", response.Content.Headers.ContentRange!.ToString());
        Assert.Equal(data.AsSpan(1001, 300_000).ToArray(), await response.Content.ReadAsByteArrayAsync());
        await AssertSentWithSendfileAsync(counter, 300_000);
    }

    [Fact]
    public async Task MultipartPartsInterleaveCopiedHeadsWithSendfileBodies()
    {
        await using var server = FileServer.Start(pki, plain: true);
        var data = FileServer.RandomBytes(Size);
        var id = server.Seed(data);
        using var counter = new SendFileCounter();
        using var request = new HttpRequestMessage(HttpMethod.Get, $"files/{id}");
        request.Headers.TryAddWithoutValidation("Range", "bytes=0-99,200000-1199999");

        using var response = await server.PlainClient().SendAsync(request);

        Assert.Equal(HttpStatusCode.PartialContent, response.StatusCode);
        var boundary = response.Content.Headers.ContentType!.Parameters.Single(p => p.Name == "boundary").Value!;
        var body = await response.Content.ReadAsByteArrayAsync();
        Assert.Equal(body.Length, response.Content.Headers.ContentLength);
        var parts = MultipartReader.Parse(body, boundary);
        Assert.Equal(2, parts.Count);
        Assert.Equal(data.AsSpan(0, 100).ToArray(), parts[0].Data);
        Assert.Equal(data.AsSpan(200_000, 1_000_000).ToArray(), parts[1].Data);
        // The 100-byte part is copied with its head; only the large one goes through sendfile.
        await AssertSentWithSendfileAsync(counter, 1_000_000);
    }

    [Fact]
    public async Task TlsListenerNeverUsesSendfile()
    {
        await using var server = FileServer.Start(pki);
        var data = FileServer.RandomBytes(Size);
        var id = server.Seed(data);
        var client = server.Client();
        using var counter = new SendFileCounter();

        Assert.Equal(data, await client.GetByteArrayAsync($"files/{id}"));
        // The same connection answers again only after the first handler returned, counter and all.
        Assert.Equal(data, await client.GetByteArrayAsync($"files/{id}"));

        Assert.Equal(0, counter.Bytes);
    }

    [Fact]
    public async Task AClientLeavingMidSendfileReleasesTheFile()
    {
        await using var server = FileServer.Start(pki, plain: true);
        var data = FileServer.RandomBytes(64 << 20);
        var id = server.Seed(data);
        var path = server.FilePath(id);
        using var counter = new SendFileCounter();
        using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        socket.ReceiveBufferSize = 64 * 1024; // keep what the kernel buffers for us far below the file
        await socket.ConnectAsync(IPAddress.Loopback, server.Port);

        await socket.SendAsync(Encoding.ASCII.GetBytes($"GET /files/{id} HTTP/1.1\r\nHost: gate\r\n\r\n"));
        var buffer = new byte[64 * 1024];
        var received = 0;
        while (received < 1 << 20)
        {
            var read = await socket.ReceiveAsync(buffer);
            Assert.True(read > 0, "the server closed before the client left");
            received += read;
        }

        Assert.True(FileServer.OpenHandlesTo(path) > 0 || !OperatingSystem.IsLinux(), "the download should hold the file open");
        socket.Close(0); // RST: the send in progress fails

        Assert.True(await FileServer.EventuallyAsync(() => FileServer.OpenHandlesTo(path) == 0), "file handle still open after the client left");
        // An aborted sendfile is not counted as sent: the response never looked complete.
        Assert.Equal(0, counter.Bytes);
    }

    /// <summary>The counter moves just after the last byte leaves, so the client may get there first: wait for it, then demand the exact figure.</summary>
    private static async Task AssertSentWithSendfileAsync(SendFileCounter counter, long expected)
    {
        Assert.True(await FileServer.EventuallyAsync(() => counter.Bytes >= expected), $"sendfile counted {counter.Bytes} bytes, expected {expected}");
        Assert.Equal(expected, counter.Bytes);
    }
}
