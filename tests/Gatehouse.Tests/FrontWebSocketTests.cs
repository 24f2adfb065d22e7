using System.Collections.Concurrent;
using System.Diagnostics;
using System.Text.Json;

namespace Gatehouse.Tests;

/// <summary>
/// Pound mode (issue 5), WebSocket pass-through: the `ws` package's echo server behind a proxy
/// route and the `ws` client (with a client certificate) through the gateway. Messages both ways,
/// a 1 MiB message, and whichever side closes (or drops) first, the other side sees it.
/// </summary>
public sealed class FrontWebSocketTests
{
    private static string Script(string name) => Path.Combine(PouchDbServer.RepositoryRoot, "tests", "Gatehouse.Tests", "node", name);

    private static string WsModule => Path.Combine(PouchDbServer.RepositoryRoot, "tools", "node_modules", "ws");

    [Theory]
    [InlineData("client-close", "1000", 1000)]
    [InlineData("client-terminate", "1006", 1006)]
    [InlineData("server-close", "1000", 1000)]
    [InlineData("server-terminate", "1006", 1006)]
    public async Task TunnelCarriesMessagesBothWaysAndEitherSideClosingClosesTheOther(string mode, string serverSeesCode, int clientSeesCode)
    {
        using var server = await NodeProcess.StartAsync(Script("ws-echo-server.js"), WsModule);
        var port = JsonDocument.Parse(await server.NextLineAsync()).RootElement.GetProperty("port").GetInt32();
        await using var gateway = await StartGatewayAsync(port, idleSeconds: 600);
        var client = ClientPem.Issue(gateway, "alice-laptop");

        var result = await RunClientAsync(gateway, client, mode);
        Assert.Equal("hello", result.GetProperty("hello").GetString());
        Assert.True(result.GetProperty("big").GetBoolean());
        Assert.Equal(clientSeesCode, result.GetProperty("closeCode").GetInt32());

        var open = JsonDocument.Parse(await server.NextLineAsync()).RootElement;
        Assert.Equal(client.Pin, open.GetProperty("principal").GetString());
        Assert.Equal("/chat", open.GetProperty("url").GetString());
        var closed = JsonDocument.Parse(await server.NextLineAsync()).RootElement;
        Assert.Equal("close", closed.GetProperty("event").GetString());
        Assert.Equal(serverSeesCode, closed.GetProperty("code").GetInt32().ToString());
    }

    [Fact]
    public async Task IdleTunnelIsClosedAfterItsTimeout()
    {
        using var server = await NodeProcess.StartAsync(Script("ws-echo-server.js"), WsModule);
        var port = JsonDocument.Parse(await server.NextLineAsync()).RootElement.GetProperty("port").GetInt32();
        await using var gateway = await StartGatewayAsync(port, idleSeconds: 1);
        var client = ClientPem.Issue(gateway, "alice-laptop");

        var result = await RunClientAsync(gateway, client, "idle");
        Assert.True(result.GetProperty("big").GetBoolean());
        Assert.Equal(1006, result.GetProperty("closeCode").GetInt32());
        Assert.InRange(result.GetProperty("closedAfterMs").GetInt32(), 500, 10_000);
    }

    private static Task<InProcessGateway> StartGatewayAsync(int backendPort, int idleSeconds) => InProcessGateway.StartAsync(configJson: FrontConfig.Json(
        $$"""[ { "kind": "proxy", "name": "ws", "prefix": "/ws/", "backend": "http://127.0.0.1:{{backendPort}}", "webSockets": true, "tunnelIdleTimeout": {{idleSeconds}} } ]""",
        """[ { "principals": [ "ca:user" ], "proxy": [ "ws" ] } ]"""));

    private static async Task<JsonElement> RunClientAsync(InProcessGateway gateway, ClientPem client, string mode)
    {
        using var process = await NodeProcess.StartAsync(Script("ws-client.js"), WsModule, $"wss://localhost:{gateway.PortOf(0)}/ws/chat",
            gateway.Dir.File("ca.crt"), client.Certificate, client.Key, mode);
        return JsonDocument.Parse(await process.NextLineAsync(TimeSpan.FromSeconds(30))).RootElement.Clone();
    }
}

/// <summary>A node script whose stdout lines are read one by one; killed on Dispose.</summary>
internal sealed class NodeProcess : IDisposable
{
    private readonly Process _process;
    private readonly BlockingCollection<string> _lines = [];
    private readonly ConcurrentQueue<string> _stderr = new();

    private NodeProcess(Process process)
    {
        _process = process;
    }

    public static Task<NodeProcess> StartAsync(string script, params string[] args)
    {
        var info = new ProcessStartInfo("node") { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true };
        info.ArgumentList.Add(script);
        foreach (var arg in args)
        {
            info.ArgumentList.Add(arg);
        }

        var node = new NodeProcess(Process.Start(info)!);
        node._process.OutputDataReceived += (_, e) =>
        {
            if (e.Data is not null)
            {
                node._lines.Add(e.Data);
            }
        };
        node._process.ErrorDataReceived += (_, e) =>
        {
            if (e.Data is not null)
            {
                node._stderr.Enqueue(e.Data);
            }
        };
        node._process.BeginOutputReadLine();
        node._process.BeginErrorReadLine();
        return Task.FromResult(node);
    }

    public async Task<string> NextLineAsync(TimeSpan? timeout = null)
    {
        var line = await Task.Run(() => _lines.TryTake(out var next, timeout ?? TimeSpan.FromSeconds(15)) ? next : null);
        return line ?? throw new TimeoutException("node printed nothing in time; stderr: " + string.Join('\n', _stderr));
    }

    public void Dispose()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            _process.WaitForExit(5000);
        }

        _process.Dispose();
        _lines.Dispose();
    }
}
