namespace Gatehouse.Proxy.Tests;

/// <summary>
/// A pooled connection the node closed right after its last answer. A body-less read taken within
/// <see cref="NodeConnections.UncheckedReuseMs"/> skips the pool's poll and relies on the retry on a
/// fresh connection; a request with a body, or a connection idle longer, is still polled, so it is
/// never sent on the dead connection.
/// </summary>
public sealed class StaleConnectionTests
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(10);

    /// <summary>How the node closes its first connection once that connection is back in the pool.</summary>
    public enum NodeClose
    {
        /// <summary>close(): a FIN.</summary>
        Fin,

        /// <summary>close() with linger 0: a RST.</summary>
        Reset,

        /// <summary>shutdown(SHUT_WR): a FIN, but the node still reads, so a request sent anyway is seen.</summary>
        HalfClose,
    }

    [Theory]
    [InlineData(NodeClose.Fin)]
    [InlineData(NodeClose.Reset)]
    [InlineData(NodeClose.HalfClose)]
    public async Task GetOnAPooledConnectionTheNodeClosedIsRetriedOnAFreshOne(NodeClose close)
    {
        await using var node = new StaleNode(close);
        await using var gateway = new Gateway([node.Upstream.Uri]);
        using var client = await gateway.ConnectAsync();
        await node.FirstAnswerPooledThenClosedAsync(client);

        await client.SendAsync("GET /couch/db/b HTTP/1.1\r\nHost: g\r\n\r\n");
        var response = await client.ReadResponseAsync();

        Assert.Equal(200, response.Status);
        Assert.Equal("conn1", response.Body);
        Assert.Equal(2, node.Upstream.Accepted);
        if (close == NodeClose.HalfClose)
        {
            // The poll was skipped: the GET went to the closed connection first, then again on a fresh one.
            Assert.StartsWith("GET /db/b ", await node.SentAfterCloseAsync());
        }
    }

    [Theory]
    [InlineData(NodeClose.Fin)]
    [InlineData(NodeClose.Reset)]
    [InlineData(NodeClose.HalfClose)]
    public async Task PostWithABodyIsNotSentOnAPooledConnectionTheNodeClosed(NodeClose close)
    {
        await using var node = new StaleNode(close);
        await using var gateway = new Gateway([node.Upstream.Uri]);
        using var client = await gateway.ConnectAsync();
        await node.FirstAnswerPooledThenClosedAsync(client);

        await client.SendAsync("POST /couch/db/_bulk_docs HTTP/1.1\r\nHost: g\r\nContent-Length: 2\r\n\r\n{}");
        var response = await client.ReadResponseAsync();

        Assert.Equal(200, response.Status); // sent on the dead connection, it would have failed unretried (502)
        Assert.Equal("conn1", response.Body);
        Assert.Equal(1, CountOf(node.Upstream.AllReceived, "POST "));
        if (close == NodeClose.HalfClose)
        {
            Assert.Null(await node.SentAfterCloseAsync());
        }
    }

    [Fact]
    public async Task GetOnAConnectionIdleASecondOrMoreIsStillPolled()
    {
        await using var node = new StaleNode(NodeClose.HalfClose);
        await using var gateway = new Gateway([node.Upstream.Uri]);
        using var client = await gateway.ConnectAsync();
        await node.FirstAnswerPooledThenClosedAsync(client);
        // Ages the pooled connection past the unchecked window; nothing to wait for but time itself.
        await Task.Delay(TimeSpan.FromMilliseconds(NodeConnections.UncheckedReuseMs + 100));

        await client.SendAsync("GET /couch/db/b HTTP/1.1\r\nHost: g\r\n\r\n");
        var response = await client.ReadResponseAsync();

        Assert.Equal(200, response.Status);
        Assert.Equal("conn1", response.Body);
        Assert.Null(await node.SentAfterCloseAsync()); // the poll saw the FIN: the closed connection got nothing
    }

    private static int CountOf(string text, string part)
    {
        var count = 0;
        for (var i = text.IndexOf(part, StringComparison.Ordinal); i >= 0; i = text.IndexOf(part, i + 1, StringComparison.Ordinal))
        {
            count++;
        }

        return count;
    }

    /// <summary>
    /// A node whose first connection answers once, then closes as told when the test says the
    /// answer has reached the client (so the connection is back in the gateway's pool); every
    /// later connection answers "conn{index}" for as long as it is asked.
    /// </summary>
    private sealed class StaleNode : IAsyncDisposable
    {
        private readonly TaskCompletionSource _closeNow = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private readonly TaskCompletionSource _closed = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private readonly TaskCompletionSource<string?> _sentAfterClose = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public StaleNode(NodeClose close)
        {
            Upstream = new FakeUpstream(async (c, index) =>
            {
                if (index > 0)
                {
                    while (await c.ReadRequestAsync() is not null)
                    {
                        await c.WriteAsync($"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nconn{index}");
                    }

                    return;
                }

                await c.ReadRequestAsync();
                await c.WriteAsync("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nfirst");
                await _closeNow.Task.WaitAsync(Wait);
                switch (close)
                {
                    case NodeClose.Fin:
                        c.Dispose();
                        break;
                    case NodeClose.Reset:
                        c.Reset();
                        break;
                    default:
                        c.ShutdownSend();
                        break;
                }

                _closed.SetResult();
                // Null when the gateway closes the connection without sending on it.
                _sentAfterClose.SetResult(close == NodeClose.HalfClose ? (await c.ReadRequestAsync())?.Head : null);
            });
        }

        public FakeUpstream Upstream { get; }

        /// <summary>Gets the first answer through <paramref name="client"/>, then has the node close that connection.</summary>
        public async Task FirstAnswerPooledThenClosedAsync(TestClient client)
        {
            await client.SendAsync("GET /couch/db/a HTTP/1.1\r\nHost: g\r\n\r\n");
            Assert.Equal("first", (await client.ReadResponseAsync()).Body); // pooled before the client had it
            _closeNow.SetResult();
            await _closed.Task.WaitAsync(Wait);
        }

        public Task<string?> SentAfterCloseAsync() => _sentAfterClose.Task.WaitAsync(Wait);

        public ValueTask DisposeAsync() => Upstream.DisposeAsync();
    }
}
