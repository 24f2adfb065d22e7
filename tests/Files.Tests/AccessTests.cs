using System.Net;

namespace Gatehouse.Files.Tests;

[Collection(PkiCollection.Name)]
public sealed class AccessTests(TestPki pki)
{
    [Fact]
    public async Task AReaderMayReadButNotWriteOrDelete()
    {
        await using var server = FileServer.Start(pki);
        var data = FileServer.RandomBytes(1000);
        var id = server.Seed(data);
        var viewer = server.Client(pki.Viewer);

        using var get = await viewer.GetAsync($"files/{id}");
        Assert.Equal(HttpStatusCode.OK, get.StatusCode);

        var other = FileServer.RandomBytes(1000);
        using var put = await viewer.PutAsync($"files/{FileServer.IdOf(other)}", new ByteArrayContent(other));
        Assert.Equal(HttpStatusCode.Forbidden, put.StatusCode);
        Assert.Contains("forbidden", await put.Content.ReadAsStringAsync());
        Assert.Empty(server.TempFiles());
        Assert.Single(server.StoredFiles());

        using var delete = await viewer.DeleteAsync($"files/{id}");
        Assert.Equal(HttpStatusCode.Forbidden, delete.StatusCode);
        Assert.True(File.Exists(server.FilePath(id)));
    }

    [Fact]
    public async Task AWriterMayDelete()
    {
        await using var server = FileServer.Start(pki);
        var id = server.Seed(FileServer.RandomBytes(1000));
        var client = server.Client();

        using var delete = await client.DeleteAsync($"files/{id}");
        using var again = await client.DeleteAsync($"files/{id}");

        Assert.Equal(HttpStatusCode.NoContent, delete.StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, again.StatusCode);
        Assert.False(File.Exists(server.FilePath(id)));
    }

    [Fact]
    public async Task OtherMethodsAreNotAllowed()
    {
        await using var server = FileServer.Start(pki);
        var id = server.Seed([1]);

        using var post = await server.Client().PostAsync($"files/{id}", new ByteArrayContent([1]));

        Assert.Equal(HttpStatusCode.MethodNotAllowed, post.StatusCode);
        Assert.Equal("GET, HEAD, PUT, DELETE", string.Join(", ", post.Content.Headers.Allow));
    }
}
