using System.Collections.Concurrent;
using Gatehouse.Http1.Tests.Support;

namespace Gatehouse.Http1.Tests.Sockets;

/// <summary>
/// <see cref="HttpResponse.SendFileAsync"/> on a plain connection: the head and buffered bytes go
/// first, the file range follows byte-exact, and a send that cannot finish closes the connection
/// rather than leave a response that looks complete.
/// </summary>
public sealed class SendFileTests : IDisposable
{
    private readonly string _path = Path.Join(Path.GetTempPath(), "gatehouse-sendfile-" + Guid.NewGuid().ToString("N"));
    private readonly byte[] _data = new byte[300_000];

    public SendFileTests()
    {
        Random.Shared.NextBytes(_data);
        File.WriteAllBytes(_path, _data);
    }

    [Fact]
    public async Task SendsBufferedBytesThenTheFileRangeAndKeepsTheConnection()
    {
        var handler = new FileHandler(_path, 5 + 200_000, async (response, file) =>
        {
            var memory = response.GetMemory(5);
            "hello"u8.CopyTo(memory.Span);
            response.Advance(5); // buffered, not flushed: SendFileAsync must send it before the file
            await response.SendFileAsync(file, 1000, 200_000);
        });
        await using var server = TestServer.StartPlain(handler: handler);
        await using var client = await RawHttpClient.ConnectPlainAsync(server.Endpoint);

        await client.SendAsync("GET /a HTTP/1.1\r\nHost: h\r\n\r\n");
        var first = await client.ReadResponseAsync();
        await client.SendAsync("GET /b HTTP/1.1\r\nHost: h\r\n\r\n");
        var second = await client.ReadResponseAsync();

        Assert.Equal(200, first.Status);
        Assert.Equal([.. "hello"u8.ToArray(), .. _data.AsSpan(1000, 200_000)], first.Body);
        Assert.False(first.HasConnectionClose);
        Assert.Equal(first.Body, second.Body);
        Assert.Equal([true, true], handler.CouldSendFile);
    }

    [Fact]
    public async Task AShortSendClosesTheConnectionInsteadOfFinishingTheResponse()
    {
        var failures = new ConcurrentQueue<(Exception Error, bool KeepAlive)>();
        // The range runs past the end of the file, as if it were truncated under us.
        var handler = new FileHandler(_path, 400_000, async (response, file) =>
        {
            try
            {
                await response.SendFileAsync(file, 0, 400_000);
            }
            catch (IOException ex)
            {
                failures.Enqueue((ex, response.KeepAlive));
                throw;
            }
        });
        await using var server = TestServer.StartPlain(handler: handler);
        await using var client = await RawHttpClient.ConnectPlainAsync(server.Endpoint);

        await client.SendAsync("GET /a HTTP/1.1\r\nHost: h\r\n\r\n");
        var responses = await client.ReadUntilCloseAsync();

        Assert.Empty(responses); // the head arrived, the promised body never did, and the server closed
        Assert.True(client.Pending > 0);
        var failure = Assert.Single(failures);
        Assert.False(failure.KeepAlive);
    }

    [Fact]
    public async Task HeadAndBodylessAnswersCannotSendAFile()
    {
        var handler = new FileHandler(_path, 10, async (response, _) => await response.CompleteAsync());
        await using var server = TestServer.StartPlain(handler: handler);
        await using var client = await RawHttpClient.ConnectPlainAsync(server.Endpoint);

        await client.SendAsync("HEAD /a HTTP/1.1\r\nHost: h\r\n\r\n");
        _ = await client.ReadResponseAsync(headRequest: true);

        Assert.Equal([false], handler.CouldSendFile);
    }

    public void Dispose() => File.Delete(_path);

    /// <summary>Opens the test file for each request, sets the Content-Length, records <see cref="HttpResponse.CanSendFile"/>, and lets the test answer.</summary>
    private sealed class FileHandler(string path, long contentLength, Func<HttpResponse, Microsoft.Win32.SafeHandles.SafeFileHandle, Task> answer) : IRequestHandler
    {
        public ConcurrentQueue<bool> CouldSendFile { get; } = new();

        public async ValueTask HandleAsync(HttpExchange exchange, CancellationToken stopping)
        {
            using var file = File.OpenHandle(path, FileMode.Open, FileAccess.Read, FileShare.Read, FileOptions.Asynchronous);
            exchange.Response.ContentLength = contentLength;
            CouldSendFile.Enqueue(exchange.Response.CanSendFile);
            await answer(exchange.Response, file);
        }
    }
}
