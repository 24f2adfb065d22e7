using System.Diagnostics;
using System.Text;
using System.Text.Json;

namespace Gatehouse.Tests.Discovery;

/// <summary>
/// A device's own pouchdb-server inside its network namespace (in memory, 127.0.0.1 there), and
/// the PouchDB scripts (node/cable.js) run beside it. The test process, outside the namespace,
/// reaches it only through those scripts. Disposing kills the server.
/// </summary>
internal sealed class NamespaceCouch : IDisposable
{
    public const int Port = 5984;
    public const string Database = "novacut-0-cable";

    private readonly Process _process;
    private readonly StringBuilder _log = new();
    private readonly string _dataDir;

    private NamespaceCouch(string netns, Process process, string dataDir)
    {
        Namespace = netns;
        _process = process;
        _dataDir = dataDir;
    }

    public string Namespace { get; }

    /// <summary>The stdin environment for this device's gateway: its CouchDB and the credential peers get.</summary>
    public static string GatewayEnvironment =>
        $$"""{ "couchdb": { "url": "http://127.0.0.1:{{Port}}/", "credentials": { "peer": { "username": "peer", "password": "{{TestSecrets.PeerLinkCouchPassword}}" } } } }""";

    public string Log
    {
        get
        {
            lock (_log)
            {
                return _log.ToString();
            }
        }
    }

    /// <summary>Starts pouchdb-server in <paramref name="netns"/> and sets up its admin, the peer user and <see cref="Database"/>.</summary>
    public static async Task<NamespaceCouch> StartAsync(string netns)
    {
        var bin = Path.Combine(PouchDbServer.RepositoryRoot, "tools", "node_modules", "pouchdb-server", "bin", "pouchdb-server");
        // pouchdb-server keeps its config.json (admins) and log in its working folder: one of its own.
        var dataDir = Directory.CreateTempSubdirectory("gatehouse-cable-couch-").FullName;
        var info = new ProcessStartInfo("ip") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false, WorkingDirectory = dataDir };
        foreach (var arg in new[] { "netns", "exec", netns, "node", bin, "--in-memory", "--host", "127.0.0.1", "--port", Port.ToString(System.Globalization.CultureInfo.InvariantCulture) })
        {
            info.ArgumentList.Add(arg);
        }

        var couch = new NamespaceCouch(netns, Process.Start(info)!, dataDir);
        couch._process.OutputDataReceived += (_, e) => couch.Append(e.Data);
        couch._process.ErrorDataReceived += (_, e) => couch.Append(e.Data);
        couch._process.BeginOutputReadLine();
        couch._process.BeginErrorReadLine();
        try
        {
            var setup = await couch.ScriptAsync("setup");
            Assert.True(setup.GetProperty("ok").GetBoolean(), setup + "\n" + couch.Log);
        }
        catch
        {
            couch.Dispose();
            throw;
        }

        return couch;
    }

    /// <summary>Runs node/cable.js COMMAND PORT DB ARGS in this namespace (at most 90 s) and returns the JSON line it prints.</summary>
    public async Task<JsonElement> ScriptAsync(string command, params string[] args)
    {
        var info = new ProcessStartInfo("ip") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var arg in new[] { "netns", "exec", Namespace, "node", Path.Combine(PouchDbServer.RepositoryRoot, "tests", "Gatehouse.Tests", "node", "cable.js"),
            Path.Combine(PouchDbServer.RepositoryRoot, "tools", "node_modules"), command, Port.ToString(System.Globalization.CultureInfo.InvariantCulture), Database }.Concat(args))
        {
            info.ArgumentList.Add(arg);
        }

        info.Environment["CABLE_ADMIN_PASSWORD"] = TestSecrets.PouchAdminPassword;
        info.Environment["CABLE_PEER_PASSWORD"] = TestSecrets.PeerLinkCouchPassword;
        using var process = Process.Start(info)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(90));
        try
        {
            await process.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"cable.js {command} ran past 90 s: {await stderr}");
        }

        var line = (await stdout).Trim();
        Assert.False(string.IsNullOrEmpty(line), $"cable.js {command} printed nothing: {await stderr}");
        using var document = JsonDocument.Parse(line.Split('\n')[^1]);
        return document.RootElement.Clone();
    }

    public void Dispose()
    {
        try
        {
            if (!_process.HasExited)
            {
                _process.Kill(entireProcessTree: true);
                _process.WaitForExit(10_000);
            }
        }
        catch (InvalidOperationException)
        {
            // already gone
        }

        _process.Dispose();
        try
        {
            Directory.Delete(_dataDir, recursive: true);
        }
        catch (IOException)
        {
        }
    }

    private void Append(string? line)
    {
        if (line is not null)
        {
            lock (_log)
            {
                _log.AppendLine(line);
            }
        }
    }
}
