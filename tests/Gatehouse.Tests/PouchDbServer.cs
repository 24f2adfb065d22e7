using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Sockets;
using System.Text;

namespace Gatehouse.Tests;

/// <summary>
/// The real CouchDB-compatible backend the design names: pouchdb-server, in memory, on
/// 127.0.0.1 at a port chosen here, with a server admin, limited users and per-database
/// _security set up through its own HTTP API. Readiness is its port accepting connections.
/// </summary>
public sealed class PouchDbServer : IAsyncDisposable
{
    public const string AdminName = "admin";
    public const string AdminPassword = TestSecrets.PouchAdminPassword;

    private readonly Process _process;
    private readonly StringBuilder _log = new();

    private PouchDbServer(Process process, int port, string dataDir)
    {
        _process = process;
        Port = port;
        DataDir = dataDir;
        Url = new Uri($"http://127.0.0.1:{port}/");
        Admin = new HttpClient { BaseAddress = Url, Timeout = TimeSpan.FromSeconds(30) };
        Admin.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue(
            "Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes($"{AdminName}:{AdminPassword}")));
    }

    public int Port { get; }

    public Uri Url { get; }

    public string DataDir { get; }

    /// <summary>An HTTP client holding the server-admin credential, for setting up and checking.</summary>
    public HttpClient Admin { get; }

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

    public static string RepositoryRoot
    {
        get
        {
            var dir = new DirectoryInfo(AppContext.BaseDirectory);
            while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "Gatehouse.slnx")))
            {
                dir = dir.Parent;
            }

            return dir?.FullName ?? throw new InvalidOperationException("repository root not found");
        }
    }

    /// <param name="port">The port, or 0 for a free one.</param>
    /// <param name="surviveUnhandledRejections">
    /// Run node with <c>--unhandled-rejections=warn</c>: pouchdb-server 4.2.0's replicator rejects a
    /// promise nobody handles when a <c>_replicator</c> document of a running replication is
    /// deleted (it re-reads the deleted document), which ends the process under Node's default.
    /// </param>
    public static async Task<PouchDbServer> StartAsync(int port = 0, bool surviveUnhandledRejections = false)
    {
        var bin = Path.Combine(RepositoryRoot, "tools", "node_modules", "pouchdb-server", "bin", "pouchdb-server");
        if (!File.Exists(bin))
        {
            throw new InvalidOperationException($"pouchdb-server is not installed ({bin}); run `make tools`");
        }

        port = port == 0 ? FreePort() : port;
        var dataDir = Directory.CreateTempSubdirectory("gatehouse-pouch-").FullName;
        var info = new ProcessStartInfo("node")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = dataDir,
        };
        if (surviveUnhandledRejections)
        {
            info.ArgumentList.Add("--unhandled-rejections=warn");
        }

        foreach (var arg in new[] { bin, "--in-memory", "--host", "127.0.0.1", "--port", port.ToString(System.Globalization.CultureInfo.InvariantCulture) })
        {
            info.ArgumentList.Add(arg);
        }

        var process = Process.Start(info)!;
        var server = new PouchDbServer(process, port, dataDir);
        process.OutputDataReceived += (_, e) => server.Append(e.Data);
        process.ErrorDataReceived += (_, e) => server.Append(e.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        try
        {
            await server.WaitForPortAsync(TimeSpan.FromSeconds(60));
            await server.SetUpAdminAsync();
        }
        catch
        {
            await server.DisposeAsync();
            throw;
        }

        return server;
    }

    public async Task CreateUserAsync(string name, string password)
    {
        var body = $$"""{ "_id": "org.couchdb.user:{{name}}", "name": "{{name}}", "password": "{{password}}", "roles": [], "type": "user" }""";
        using var response = await Admin.PutAsync($"_users/org.couchdb.user:{name}", Json(body));
        EnsureOk(response, await response.Content.ReadAsStringAsync());
    }

    /// <summary>Creates <paramref name="database"/> whose members are exactly <paramref name="members"/>.</summary>
    public async Task CreateDatabaseAsync(string database, params string[] members)
    {
        using (var response = await Admin.PutAsync(database, null))
        {
            EnsureOk(response, await response.Content.ReadAsStringAsync());
        }

        var names = string.Join(",", members.Select(m => $"\"{m}\""));
        var security = $$"""{ "admins": { "names": [], "roles": [] }, "members": { "names": [{{names}}], "roles": [] } }""";
        using var put = await Admin.PutAsync($"{database}/_security", Json(security));
        EnsureOk(put, await put.Content.ReadAsStringAsync());
    }

    public static StringContent Json(string json) => new(json, Encoding.UTF8, "application/json");

    public async ValueTask DisposeAsync()
    {
        Admin.Dispose();
        try
        {
            if (!_process.HasExited)
            {
                _process.Kill(entireProcessTree: true);
                await _process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(10));
            }
        }
        catch (InvalidOperationException)
        {
        }

        _process.Dispose();
        try
        {
            Directory.Delete(DataDir, recursive: true);
        }
        catch (IOException)
        {
        }
    }

    private static void EnsureOk(HttpResponseMessage response, string body)
    {
        if (!response.IsSuccessStatusCode)
        {
            throw new InvalidOperationException($"pouchdb-server setup failed: {(int)response.StatusCode} {body}");
        }
    }

    private async Task SetUpAdminAsync()
    {
        // Admin party until the first admin exists; after this, pouchdb-server enforces it.
        using var anonymous = new HttpClient { BaseAddress = Url };
        using var response = await anonymous.PutAsync($"_config/admins/{AdminName}", Json($"\"{AdminPassword}\""));
        EnsureOk(response, await response.Content.ReadAsStringAsync());
    }

    private async Task WaitForPortAsync(TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (true)
        {
            if (_process.HasExited)
            {
                throw new InvalidOperationException("pouchdb-server exited: " + Log);
            }

            try
            {
                using var client = new TcpClient();
                await client.ConnectAsync(IPAddress.Loopback, Port);
                using var http = new HttpClient { BaseAddress = Url, Timeout = TimeSpan.FromSeconds(5) };
                using var response = await http.GetAsync("/");
                if (response.IsSuccessStatusCode)
                {
                    return;
                }
            }
            catch (Exception ex) when (ex is SocketException or HttpRequestException or TaskCanceledException)
            {
                if (DateTime.UtcNow > deadline)
                {
                    throw new TimeoutException("pouchdb-server did not open its port: " + Log);
                }
            }

            await Task.Delay(100); // polling the port, bounded by the deadline
        }
    }

    private void Append(string? line)
    {
        if (line is null)
        {
            return;
        }

        lock (_log)
        {
            _log.AppendLine(line);
        }
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
