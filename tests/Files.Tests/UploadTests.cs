using System.Net;
using System.Text;
using System.Text.Json;

namespace Gatehouse.Files.Tests;

[Collection(PkiCollection.Name)]
public sealed class UploadTests(TestPki pki)
{
    [Fact]
    public async Task StoresAVerifiedUploadAndServesIt()
    {
        await using var server = FileServer.Start(pki);
        var data = FileServer.RandomBytes(500_000);
        var id = FileServer.IdOf(data);
        var client = server.Client();

        using var put = await client.PutAsync($"files/{id}", new ByteArrayContent(data));
        Assert.Equal(HttpStatusCode.Created, put.StatusCode);

        Assert.Equal(data, await File.ReadAllBytesAsync(server.FilePath(id)));
        Assert.Empty(server.TempFiles());
        using var get = await client.GetAsync($"files/{id}");
        Assert.Equal(data, await get.Content.ReadAsByteArrayAsync());
    }

    [Fact]
    public async Task StoresAChunkedUpload()
    {
        await using var server = FileServer.Start(pki);
        var data = FileServer.RandomBytes(300_000);
        var id = FileServer.IdOf(data);

        // StreamContent of an unseekable stream has no length: HttpClient sends it chunked.
        using var content = new StreamContent(new UnseekableStream(data));
        using var put = await server.Client().PutAsync($"files/{id}", content);

        Assert.Equal(HttpStatusCode.Created, put.StatusCode);
        Assert.Equal(data, await File.ReadAllBytesAsync(server.FilePath(id)));
    }

    [Fact]
    public async Task StoresAnEmptyFile()
    {
        await using var server = FileServer.Start(pki);
        var id = FileServer.IdOf([]);

        using var put = await server.Client().PutAsync($"files/{id}", new ByteArrayContent([]));

        Assert.Equal(HttpStatusCode.Created, put.StatusCode);
        Assert.Empty(await File.ReadAllBytesAsync(server.FilePath(id)));
    }

    [Fact]
    public async Task AcceptsTheSameUploadAgainAsAlreadyPresent()
    {
        await using var server = FileServer.Start(pki);
        var data = FileServer.RandomBytes(10_000);
        var id = FileServer.IdOf(data);
        var client = server.Client();

        using var first = await client.PutAsync($"files/{id}", new ByteArrayContent(data));
        using var second = await client.PutAsync($"files/{id}", new ByteArrayContent(data));

        Assert.Equal(HttpStatusCode.Created, first.StatusCode);
        Assert.Equal(HttpStatusCode.OK, second.StatusCode);
        Assert.Equal(data, await File.ReadAllBytesAsync(server.FilePath(id)));
        Assert.Empty(server.TempFiles());
    }

    [Fact]
    public async Task ConcurrentUploadsOfOneIdBothSucceedWithOneWholeFile()
    {
        await using var server = FileServer.Start(pki);
        var data = FileServer.RandomBytes(2_000_000);
        var id = FileServer.IdOf(data);

        var answers = await Task.WhenAll(Enumerable.Range(0, 4).Select(async _ =>
        {
            using var put = await server.Client().PutAsync($"files/{id}", new ByteArrayContent(data));
            return put.StatusCode;
        }));

        Assert.All(answers, status => Assert.True(status is HttpStatusCode.Created or HttpStatusCode.OK));
        Assert.Single(answers, HttpStatusCode.Created);
        Assert.Equal(data, await File.ReadAllBytesAsync(server.FilePath(id)));
        Assert.Empty(server.TempFiles());
    }

    [Fact]
    public async Task RefusesBytesThatDoNotMatchTheIdAndKeepsNothing()
    {
        await using var server = FileServer.Start(pki);
        var data = FileServer.RandomBytes(100_000);
        var claimed = FileServer.IdOf([1, 2, 3]);

        using var put = await server.Client().PutAsync($"files/{claimed}", new ByteArrayContent(data));

        Assert.Equal(HttpStatusCode.Conflict, put.StatusCode);
        using var json = JsonDocument.Parse(await put.Content.ReadAsStringAsync());
        Assert.Equal("sha256 mismatch", json.RootElement.GetProperty("reason").GetString());
        Assert.Equal(claimed, json.RootElement.GetProperty("expected").GetString());
        Assert.Equal(FileServer.IdOf(data), json.RootElement.GetProperty("actual").GetString());
        Assert.Empty(server.TempFiles());
        Assert.Empty(server.StoredFiles());
    }

    [Fact]
    public async Task RefusesAnUploadOverTheLimit()
    {
        await using var server = FileServer.Start(pki, configure: o => o.MaxUploadBytes = 1000);
        var data = FileServer.RandomBytes(1001);

        using var put = await server.Client().PutAsync($"files/{FileServer.IdOf(data)}", new ByteArrayContent(data));

        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, put.StatusCode);
        Assert.Empty(server.TempFiles());
    }

    [Fact]
    public async Task RefusesAChunkedUploadThatGrowsOverTheLimit()
    {
        await using var server = FileServer.Start(pki, configure: o => o.MaxUploadBytes = 100_000);
        var data = FileServer.RandomBytes(200_000);
        var (_, stream) = await server.ConnectRawAsync();
        await using var _ = stream;

        var head = $"PUT /files/{FileServer.IdOf(data)} HTTP/1.1\r\nHost: gate\r\nTransfer-Encoding: chunked\r\n\r\n{data.Length:x}\r\n";
        await stream.WriteAsync(Encoding.ASCII.GetBytes(head));
        await stream.WriteAsync(data);
        await stream.WriteAsync("\r\n0\r\n\r\n"u8.ToArray());
        var answer = await RawHttp.ReadToEndAsync(stream);

        Assert.StartsWith("HTTP/1.1 413 ", answer);
        Assert.True(await FileServer.EventuallyAsync(() => server.TempFiles().Length == 0));
        Assert.Empty(server.StoredFiles());
    }

    [Fact]
    public async Task RequiresALengthOrChunkedBody()
    {
        await using var server = FileServer.Start(pki);
        var (_, stream) = await server.ConnectRawAsync();
        await using var _ = stream;

        await stream.WriteAsync(Encoding.ASCII.GetBytes($"PUT /files/{FileServer.IdOf([])} HTTP/1.1\r\nHost: gate\r\nConnection: close\r\n\r\n"));

        Assert.StartsWith("HTTP/1.1 411 ", await RawHttp.ReadToEndAsync(stream));
    }

    [Fact]
    public async Task AnAbortedUploadLeavesNothingBehind()
    {
        await using var server = FileServer.Start(pki);
        var data = FileServer.RandomBytes(4_000_000);
        var (socket, stream) = await server.ConnectRawAsync();

        var head = $"PUT /files/{FileServer.IdOf(data)} HTTP/1.1\r\nHost: gate\r\nContent-Length: {data.Length}\r\n\r\n";
        await stream.WriteAsync(Encoding.ASCII.GetBytes(head));
        await stream.WriteAsync(data.AsMemory(0, 1_000_000));
        await stream.FlushAsync();
        Assert.True(await FileServer.EventuallyAsync(() => server.TempFiles().Length == 1), "the upload never started");

        socket.Close(0); // reset, mid-body
        await stream.DisposeAsync();

        Assert.True(await FileServer.EventuallyAsync(() => server.TempFiles().Length == 0), "temp file left behind");
        Assert.Empty(server.StoredFiles());
    }

    [Fact]
    public async Task AnUploadEndingEarlyLeavesNothingBehind()
    {
        await using var server = FileServer.Start(pki);
        var data = FileServer.RandomBytes(1_000_000);
        var (socket, stream) = await server.ConnectRawAsync();

        var head = $"PUT /files/{FileServer.IdOf(data)} HTTP/1.1\r\nHost: gate\r\nContent-Length: {data.Length}\r\n\r\n";
        await stream.WriteAsync(Encoding.ASCII.GetBytes(head));
        await stream.WriteAsync(data.AsMemory(0, 300_000));
        await stream.ShutdownAsync(); // close_notify then FIN: a clean end, but inside the body
        socket.Shutdown(System.Net.Sockets.SocketShutdown.Send);

        var answer = await RawHttp.ReadToEndAsync(stream);
        await stream.DisposeAsync();

        Assert.StartsWith("HTTP/1.1 400 ", answer);
        Assert.True(await FileServer.EventuallyAsync(() => server.TempFiles().Length == 0), "temp file left behind");
        Assert.Empty(server.StoredFiles());
    }

    [Fact]
    public async Task RefusesAnUploadThatCannotFit()
    {
        await using var server = FileServer.Start(pki, prepare: store => store.AvailableBytes = _ => 1000);
        var data = FileServer.RandomBytes(5000);

        using var put = await server.Client().PutAsync($"files/{FileServer.IdOf(data)}", new ByteArrayContent(data));

        Assert.Equal(HttpStatusCode.InsufficientStorage, put.StatusCode);
        Assert.Empty(server.TempFiles());
    }

    [Fact]
    public async Task PutsIntoTheSecondStoreWhenTheFirstIsFull()
    {
        await using var server = FileServer.Start(pki, rootCount: 2, prepare: store =>
            store.AvailableBytes = path => path.StartsWith(store.Options.StoreRoots[0], StringComparison.Ordinal) ? 10 : long.MaxValue);
        var data = FileServer.RandomBytes(5000);
        var id = FileServer.IdOf(data);

        using var put = await server.Client().PutAsync($"files/{id}", new ByteArrayContent(data));

        Assert.Equal(HttpStatusCode.Created, put.StatusCode);
        Assert.True(File.Exists(server.FilePath(id, root: 1)));
        Assert.Empty(server.StoredFiles(root: 0));
    }

    [Fact]
    public async Task RemovesStaleTempFilesAtStart()
    {
        var root = Path.Join(Path.GetTempPath(), "gatehouse-files-" + Guid.NewGuid().ToString("N"));
        try
        {
            Directory.CreateDirectory(Path.Join(root, "tmp"));
            await File.WriteAllBytesAsync(Path.Join(root, "tmp", "left.part"), [1, 2, 3]);

            var store = new FileStore(new FileStoreOptions { StoreRoots = [root] });

            Assert.Equal(1, store.StaleTempFilesRemoved);
            Assert.Empty(Directory.GetFiles(Path.Join(root, "tmp")));
            Assert.True(Directory.Exists(Path.Join(root, "files")));
        }
        finally
        {
            Directory.Delete(root, recursive: true);
        }
    }

    /// <summary>Hides the length so HttpClient must send chunked.</summary>
    private sealed class UnseekableStream(byte[] data) : MemoryStream(data)
    {
        public override bool CanSeek => false;
    }
}
