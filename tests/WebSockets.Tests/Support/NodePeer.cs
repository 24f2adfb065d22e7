using System.Diagnostics;

namespace Gatehouse.WebSockets.Tests.Support;

/// <summary>
/// A Node helper process running one of the scripts in node/ with the repo's `ws` package
/// (tools/node_modules/ws). Disposing kills it (and its children), frozen or not.
/// </summary>
internal sealed class NodePeer : IDisposable
{
    private readonly Process _process;
    private readonly System.Text.StringBuilder _stderr = new();

    private NodePeer(Process process)
    {
        _process = process;
    }

    public int Pid => _process.Id;

    public string Errors
    {
        get
        {
            lock (_stderr)
            {
                return _stderr.ToString();
            }
        }
    }

    public static string WsModule => Path.Combine(CorpusFile.RepoRoot, "tools", "node_modules", "ws");

    public static NodePeer Start(string script, params string[] args)
    {
        if (!Directory.Exists(WsModule))
        {
            throw new InvalidOperationException($"the ws package is missing at {WsModule}: run npm ci --prefix tools");
        }

        var info = new ProcessStartInfo("node")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
        };
        info.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "node", script));
        foreach (var arg in args)
        {
            info.ArgumentList.Add(arg);
        }

        info.Environment["GATEHOUSE_WS_MODULE"] = WsModule;
        var process = Process.Start(info) ?? throw new InvalidOperationException("node did not start");
        var peer = new NodePeer(process);
        process.ErrorDataReceived += (_, e) =>
        {
            if (e.Data is not null)
            {
                lock (peer._stderr)
                {
                    peer._stderr.AppendLine(e.Data);
                }
            }
        };
        process.BeginErrorReadLine();
        return peer;
    }

    /// <summary>The next stdout line, or a failure naming what the process said on stderr.</summary>
    public async Task<string> ReadLineAsync(TimeSpan wait)
    {
        using var cts = new CancellationTokenSource(wait);
        try
        {
            return await _process.StandardOutput.ReadLineAsync(cts.Token) ?? throw new InvalidOperationException("node exited: " + Errors);
        }
        catch (OperationCanceledException)
        {
            throw new TimeoutException("node said nothing in time; stderr: " + Errors);
        }
    }

    public async Task<int> WaitForExitAsync(TimeSpan wait)
    {
        using var cts = new CancellationTokenSource(wait);
        await _process.WaitForExitAsync(cts.Token);
        return _process.ExitCode;
    }

    /// <summary>Freezes the process (SIGSTOP): its sockets stay open, but nothing answers any more.</summary>
    public void Freeze()
    {
        using var kill = Process.Start("kill", ["-STOP", _process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)])!;
        kill.WaitForExit();
    }

    public void Dispose()
    {
        try
        {
            if (!_process.HasExited)
            {
                _process.Kill(entireProcessTree: true); // SIGKILL ends a stopped process too
                _process.WaitForExit(5000);
            }
        }
        catch (InvalidOperationException)
        {
            // already gone
        }

        _process.Dispose();
    }
}
