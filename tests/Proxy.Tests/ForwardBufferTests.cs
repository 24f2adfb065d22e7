using System.Buffers;
using Gatehouse.Wire;

namespace Gatehouse.Proxy.Tests;

/// <summary>
/// A forward rents its 32 KiB body buffer only when the request has a body (issue 22). Rented for
/// every GET, it was held while the forward waited for an upstream connection; at 256 client
/// connections more were out at once than the shared pool keeps, so every GET allocated one
/// (20 KB per request on the busy bench, and gen1 collections).
/// </summary>
public sealed class ForwardBufferTests
{
    [Fact]
    public async Task BodylessRequestsRentNoBodyBufferAndABodyRentsExactlyOne()
    {
        await using var upstream = new FakeUpstream(async (c, _) =>
        {
            while (await c.ReadRequestAsync() is not null)
            {
                await c.WriteAsync("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok");
            }
        });
        var arrays = new SizeRecordingArrayPool();
        await using var gateway = new Gateway([upstream.Uri], buffers: new BufferPools(MemoryPool<byte>.Shared, arrays));
        using var client = await gateway.ConnectAsync();

        foreach (var method in new[] { "GET", "HEAD", "DELETE", "OPTIONS" })
        {
            await client.SendAsync($"{method} /app/doc HTTP/1.1\r\nHost: g\r\n\r\n");
            Assert.Equal(200, (await client.ReadResponseAsync(head: method == "HEAD")).Status);
        }

        Assert.True(arrays.Rented.Count > 0, "the forwards rented nothing from the server's pool: the pool was not in use");
        Assert.DoesNotContain(arrays.Rented, length => length >= 32 * 1024);

        arrays.Rented.Clear();
        await client.SendAsync("PUT /app/doc HTTP/1.1\r\nHost: g\r\nContent-Length: 5\r\n\r\nhello");
        Assert.Equal(200, (await client.ReadResponseAsync()).Status);

        // One buffer of exactly 32 KiB: 32 KiB plus the chunk framing's room took the pool's 64 KiB size.
        Assert.Equal([32 * 1024], arrays.Rented.Where(length => length >= 32 * 1024));
    }

    private sealed class SizeRecordingArrayPool : ArrayPool<byte>
    {
        public System.Collections.Concurrent.ConcurrentBag<int> Rented { get; } = [];

        public override byte[] Rent(int minimumLength)
        {
            var array = Shared.Rent(minimumLength);
            Rented.Add(array.Length);
            return array;
        }

        public override void Return(byte[] array, bool clearArray = false) => Shared.Return(array, clearArray);
    }
}
