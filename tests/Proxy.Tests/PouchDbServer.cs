using System.Diagnostics;
using System.Net;
using System.Net.Sockets;

namespace Gatehouse.Proxy.Tests;

/// <summary>
/// The real pouchdb-server from tools/node_modules, in memory on 127.0.0.1 and a port chosen here.
/// Started in its own temporary folder (it writes config.json and log.txt beside itself).
/// </summary>
internal sealed class PouchDbServer : IDisposable
{
    private readonly Process _process;
    private readonly string _workDir;

    private PouchDbServer(Process process, int port, string workDir)
    {
        _process = process;
        Port = port;
        _workDir = workDir;
    }

    public int Port { get; }

    public Uri Uri => new($"http://127.0.0.1:{Port}/");

    public static async Task<PouchDbServer> StartAsync()
    {
        var bin = Path.Combine(FindRepoRoot(), "tools", "node_modules", "pouchdb-server", "bin", "pouchdb-server");
        if (!File.Exists(bin))
        {
            throw new InvalidOperationException($"pouchdb-server is not installed ({bin} is missing): run `make tools` (npm ci --prefix tools)");
        }

        int port;
        using (var probe = new TcpListener(IPAddress.Loopback, 0))
        {
            probe.Start();
            port = ((IPEndPoint)probe.LocalEndpoint).Port;
        }

        var workDir = Directory.CreateTempSubdirectory("gatehouse-pouchdb-").FullName;
        var start = new ProcessStartInfo("node")
        {
            WorkingDirectory = workDir,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var arg in new[] { bin, "--in-memory", "--host", "127.0.0.1", "--port", port.ToString(System.Globalization.CultureInfo.InvariantCulture) })
        {
            start.ArgumentList.Add(arg);
        }

        var process = Process.Start(start) ?? throw new InvalidOperationException("could not start node");
        process.OutputDataReceived += (_, _) => { };
        process.ErrorDataReceived += (_, _) => { };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        var server = new PouchDbServer(process, port, workDir);
        try
        {
            await server.WaitForPortAsync(TimeSpan.FromSeconds(30));
        }
        catch
        {
            server.Dispose();
            throw;
        }

        return server;
    }

    private async Task WaitForPortAsync(TimeSpan limit)
    {
        var deadline = DateTime.UtcNow + limit;
        while (true)
        {
            if (_process.HasExited)
            {
                throw new InvalidOperationException($"pouchdb-server exited with {_process.ExitCode}");
            }

            try
            {
                using var probe = new TcpClient();
                await probe.ConnectAsync(IPAddress.Loopback, Port);
                return;
            }
            catch (SocketException) when (DateTime.UtcNow < deadline)
            {
                await Task.Delay(50); // polling the port, bounded by the deadline
            }
        }
    }

    private static string FindRepoRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "Gatehouse.slnx")))
            {
                return dir.FullName;
            }
        }

        throw new InvalidOperationException("repository root (Gatehouse.slnx) not found");
    }

    public void Dispose()
    {
        try
        {
            if (!_process.HasExited)
            {
                _process.Kill(entireProcessTree: true);
                _process.WaitForExit(5000);
            }
        }
        catch (InvalidOperationException)
        {
        }

        _process.Dispose();
        try
        {
            Directory.Delete(_workDir, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}
