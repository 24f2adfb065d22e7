using System.Net;
using System.Net.Http.Headers;
using System.Text;

namespace Gatehouse.Files.Tests;

[Collection(PkiCollection.Name)]
public sealed class DownloadTests(TestPki pki)
{
    [Fact]
    public async Task ServesTheWholeFileWithCacheHeaders()
    {
        await using var server = FileServer.Start(pki);
        var data = FileServer.RandomBytes(300_000);
        var id = server.Seed(data);

        using var response = await server.Client().GetAsync($"files/{id}");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(data, await response.Content.ReadAsByteArrayAsync());
        Assert.Equal(data.Length, response.Content.Headers.ContentLength);
        Assert.Equal($"\"{id}\"", response.Headers.ETag?.Tag);
        Assert.Contains("immutable", response.Headers.CacheControl?.Extensions.Select(e => e.Name) ?? []);
        Assert.Equal(["bytes"], response.Headers.AcceptRanges);
    }

    [Fact]
    public async Task ServesAnEmptyFile()
    {
        await using var server = FileServer.Start(pki);
        var id = server.Seed([]);

        using var response = await server.Client().GetAsync($"files/{id}");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Empty(await response.Content.ReadAsByteArrayAsync());
    }

    [Fact]
    public async Task HeadGivesTheHeadersWithoutTheBody()
    {
        await using var server = FileServer.Start(pki);
        var id = server.Seed(FileServer.RandomBytes(12345));
        var client = server.Client();

        using var request = new HttpRequestMessage(HttpMethod.Head, $"files/{id}");
        request.Headers.Range = new RangeHeaderValue(0, 9); // ignored for HEAD (RFC 9110 §14.2)
        using var response = await client.SendAsync(request);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(12345, response.Content.Headers.ContentLength);
        Assert.Equal($"\"{id}\"", response.Headers.ETag?.Tag);

        // The connection is still in step: a GET on it works.
        using var after = await client.GetAsync($"files/{id}");
        Assert.Equal(12345, (await after.Content.ReadAsByteArrayAsync()).Length);
    }

    [Theory]
    [InlineData("\"{0}\"")]
    [InlineData("W/\"{0}\"")]
    [InlineData("\"other\", \"{0}\"")]
    [InlineData("*")]
    public async Task AnswersNotModifiedWhenTheTagMatches(string format)
    {
        await using var server = FileServer.Start(pki);
        var id = server.Seed(FileServer.RandomBytes(100));

        using var request = new HttpRequestMessage(HttpMethod.Get, $"files/{id}");
        request.Headers.TryAddWithoutValidation("If-None-Match", string.Format(format, id));
        using var response = await server.Client().SendAsync(request);

        Assert.Equal(HttpStatusCode.NotModified, response.StatusCode);
        Assert.Equal($"\"{id}\"", response.Headers.ETag?.Tag);
        Assert.Empty(await response.Content.ReadAsByteArrayAsync());
    }

    [Fact]
    public async Task ServesTheFileWhenTheTagDiffers()
    {
        await using var server = FileServer.Start(pki);
        var id = server.Seed(FileServer.RandomBytes(100));

        using var request = new HttpRequestMessage(HttpMethod.Get, $"files/{id}");
        request.Headers.TryAddWithoutValidation("If-None-Match", "\"abc\"");
        using var response = await server.Client().SendAsync(request);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    [Theory]
    [InlineData(0L, 99L, 0, 100)]
    [InlineData(500L, null, 500, 9500)]
    [InlineData(null, 500L, 9500, 500)]
    public async Task ServesASingleRange(long? from, long? to, int start, int length)
    {
        await using var server = FileServer.Start(pki);
        var data = FileServer.RandomBytes(10_000);
        var id = server.Seed(data);

        using var request = new HttpRequestMessage(HttpMethod.Get, $"files/{id}");
        request.Headers.Range = new RangeHeaderValue(from, to);
        using var response = await server.Client().SendAsync(request);

        Assert.Equal(HttpStatusCode.PartialContent, response.StatusCode);
        var range = response.Content.Headers.ContentRange!;
        Assert.Equal((start, start + length - 1, 10_000L), (range.From, range.To, range.Length));
        Assert.Equal(data.AsSpan(start, length).ToArray(), await response.Content.ReadAsByteArrayAsync());
    }

    [Fact]
    public async Task ServesSeveralRangesAsMultipart()
    {
        await using var server = FileServer.Start(pki);
        var data = FileServer.RandomBytes(200_000);
        var id = server.Seed(data);

        using var request = new HttpRequestMessage(HttpMethod.Get, $"files/{id}");
        request.Headers.TryAddWithoutValidation("Range", "bytes=150000-159999,0-9,-100");
        using var response = await server.Client().SendAsync(request);

        Assert.Equal(HttpStatusCode.PartialContent, response.StatusCode);
        Assert.Equal("multipart/byteranges", response.Content.Headers.ContentType?.MediaType);
        var boundary = response.Content.Headers.ContentType!.Parameters.Single(p => p.Name == "boundary").Value!;
        var body = await response.Content.ReadAsByteArrayAsync();
        Assert.Equal(body.Length, response.Content.Headers.ContentLength);

        var parts = MultipartReader.Parse(body, boundary);
        Assert.Equal(3, parts.Count);
        Assert.Equal("bytes 150000-159999/200000", parts[0].ContentRange);
        Assert.Equal(data.AsSpan(150_000, 10_000).ToArray(), parts[0].Data);
        Assert.Equal("bytes 0-9/200000", parts[1].ContentRange);
        Assert.Equal(data.AsSpan(0, 10).ToArray(), parts[1].Data);
        Assert.Equal("bytes 199900-199999/200000", parts[2].ContentRange);
        Assert.Equal(data.AsSpan(199_900, 100).ToArray(), parts[2].Data);
    }

    [Theory]
    [InlineData("bytes=10000-")]
    [InlineData("bytes=0-1,1-2")]
    public async Task AnswersRangeNotSatisfiableWithTheLength(string range)
    {
        await using var server = FileServer.Start(pki);
        var id = server.Seed(FileServer.RandomBytes(10_000));

        using var request = new HttpRequestMessage(HttpMethod.Get, $"files/{id}");
        request.Headers.TryAddWithoutValidation("Range", range);
        using var response = await server.Client().SendAsync(request);

        Assert.Equal(HttpStatusCode.RequestedRangeNotSatisfiable, response.StatusCode);
        Assert.Equal("bytes */10000", string.Join(",", response.Content.Headers.GetValues("Content-Range")));
    }

    [Fact]
    public async Task RefusesThousandsOfRanges()
    {
        await using var server = FileServer.Start(pki);
        var id = server.Seed(FileServer.RandomBytes(100_000));

        using var request = new HttpRequestMessage(HttpMethod.Get, $"files/{id}");
        request.Headers.TryAddWithoutValidation("Range", "bytes=" + string.Join(',', Enumerable.Range(0, 2000).Select(i => $"{i}-{i}")));
        using var response = await server.Client().SendAsync(request);

        Assert.Equal(HttpStatusCode.RequestedRangeNotSatisfiable, response.StatusCode);
    }

    [Theory]
    [InlineData("bytes=abc")]
    [InlineData("bytes=9-0")]
    [InlineData("lines=1-2")]
    public async Task IgnoresAMalformedRange(string range)
    {
        await using var server = FileServer.Start(pki);
        var data = FileServer.RandomBytes(1000);
        var id = server.Seed(data);

        using var request = new HttpRequestMessage(HttpMethod.Get, $"files/{id}");
        request.Headers.TryAddWithoutValidation("Range", range);
        using var response = await server.Client().SendAsync(request);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(data, await response.Content.ReadAsByteArrayAsync());
    }

    [Theory]
    [InlineData("\"{0}\"", HttpStatusCode.PartialContent)]
    [InlineData("\"0000\"", HttpStatusCode.OK)]
    [InlineData("W/\"{0}\"", HttpStatusCode.OK)]
    [InlineData("Sat, 01 Jan 2000 00:00:00 GMT", HttpStatusCode.OK)]
    public async Task HonoursIfRange(string ifRange, HttpStatusCode expected)
    {
        await using var server = FileServer.Start(pki);
        var data = FileServer.RandomBytes(1000);
        var id = server.Seed(data);

        using var request = new HttpRequestMessage(HttpMethod.Get, $"files/{id}");
        request.Headers.Range = new RangeHeaderValue(10, 19);
        request.Headers.TryAddWithoutValidation("If-Range", string.Format(ifRange, id));
        using var response = await server.Client().SendAsync(request);

        Assert.Equal(expected, response.StatusCode);
        var body = await response.Content.ReadAsByteArrayAsync();
        Assert.Equal(expected == HttpStatusCode.OK ? data : data.AsSpan(10, 10).ToArray(), body);
    }

    [Fact]
    public async Task AnswersNotFoundForAMissingFile()
    {
        await using var server = FileServer.Start(pki);

        using var response = await server.Client().GetAsync($"files/{FileServer.IdOf([1, 2, 3])}");

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        Assert.Contains("not_found", await response.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task FindsAFileInTheSecondStore()
    {
        await using var server = FileServer.Start(pki, rootCount: 2);
        var data = FileServer.RandomBytes(5000);
        var id = server.Seed(data, root: 1);

        using var response = await server.Client().GetAsync($"files/{id}");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(data, await response.Content.ReadAsByteArrayAsync());
    }

    [Theory]
    [InlineData("/files/E3B0C44298FC1C149AFBF4C8996FB92427AE41E4649B934CA495991B7852B855")]
    [InlineData("/files/e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b85")]
    [InlineData("/files/e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b8555")]
    [InlineData("/files/..%2F..%2F..%2Fetc%2Fpasswd")]
    [InlineData("/files/%2e%2e%2fe3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852")]
    [InlineData("/files/e3/b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")]
    [InlineData("/files/e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855/x")]
    [InlineData("/files/%65%33b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b8")]
    [InlineData("/files/")]
    [InlineData("/files/%2e%2e")]
    [InlineData("/files/../files/e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")]
    public async Task RefusesInvalidIdsWithBadRequest(string target)
    {
        await using var server = FileServer.Start(pki);
        var (socket, stream) = await server.ConnectRawAsync();
        await using var _ = stream;

        await stream.WriteAsync(Encoding.ASCII.GetBytes($"GET {target} HTTP/1.1\r\nHost: gate\r\nConnection: close\r\n\r\n"));
        var answer = await RawHttp.ReadToEndAsync(stream);

        Assert.StartsWith("HTTP/1.1 400 ", answer);
        Assert.Empty(server.StoredFiles());
    }
}
