using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Gatehouse.Http1;
using Gatehouse.Wire;

namespace Gatehouse.Files.Tests;

/// <summary>
/// A real TLS WireServer on 127.0.0.1:0 serving a FileEndpoint over fresh store folders, with
/// clients that present the test certificates (or, with <c>plain</c>, a plain-HTTP loopback
/// listener whose callers are the local user). Everything is removed on dispose.
/// </summary>
internal sealed class FileServer : IAsyncDisposable
{
    private readonly TestPki _pki;
    private readonly WireServer _server;
    private readonly List<HttpClient> _clients = [];
    private readonly string _baseFolder;

    private FileServer(TestPki pki, int rootCount, Action<FileStoreOptions>? configure, Action<FileStore>? prepare, Action<string>? prepareRoot, bool plain)
    {
        _pki = pki;
        _baseFolder = Path.Join(Path.GetTempPath(), "gatehouse-files-" + Guid.NewGuid().ToString("N"));
        Roots = [.. Enumerable.Range(0, rootCount).Select(i => Path.Join(_baseFolder, "store" + i))];
        foreach (var root in Roots)
        {
            Directory.CreateDirectory(root);
            prepareRoot?.Invoke(root);
        }

        var options = new FileStoreOptions { StoreRoots = Roots };
        configure?.Invoke(options);
        Store = new FileStore(options);
        prepare?.Invoke(Store);
        var limits = new Http1Limits { MaxRequestBodyBytes = 1L << 40, BodyIdleTimeout = TimeSpan.FromSeconds(10) };
        var router = new TestRouter(new FileEndpoint(Store), principal =>
            principal.Subject.Contains("viewer", StringComparison.Ordinal) ? FileRights.Read : FileRights.Read | FileRights.Write | FileRights.Delete);
        _server = new WireServer(
            [new ListenEndpoint { Address = IPAddress.Loopback, Port = 0, Tls = !plain, Local = plain }],
            pki.Identity,
            pki.Trust(),
            new WireLimits(),
            Http1Connection.CreateHandler(router, limits));
        _server.Start();
        Port = _server.BoundEndpoints[0].Port;
    }

    public string[] Roots { get; }

    public FileStore Store { get; }

    public int Port { get; }

    public static FileServer Start(TestPki pki, int rootCount = 1, Action<FileStoreOptions>? configure = null, Action<FileStore>? prepare = null, Action<string>? prepareRoot = null, bool plain = false) =>
        new(pki, rootCount, configure, prepare, prepareRoot, plain);

    public static string IdOf(byte[] data) => Convert.ToHexStringLower(SHA256.HashData(data));

    public static byte[] RandomBytes(int length)
    {
        var data = new byte[length];
        Random.Shared.NextBytes(data);
        return data;
    }

    /// <summary>Puts a file straight into a root's layout (no HTTP), returning its ID.</summary>
    public string Seed(byte[] data, int root = 0)
    {
        var id = IdOf(data);
        var path = FilePath(id, root);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllBytes(path, data);
        return id;
    }

    public string FilePath(string id, int root = 0) => Path.Join(Roots[root], "files", id[..2], id[2..]);

    public string[] TempFiles(int root = 0) => Directory.GetFiles(Path.Join(Roots[root], "tmp"));

    public string[] StoredFiles(int root = 0) => Directory.GetFiles(Path.Join(Roots[root], "files"), "*", SearchOption.AllDirectories);

    public HttpClient Client(X509Certificate2? certificate = null)
    {
        var handler = new SocketsHttpHandler
        {
            SslOptions = new SslClientAuthenticationOptions
            {
                ClientCertificates = new X509CertificateCollection { certificate ?? _pki.Laptop },
                RemoteCertificateValidationCallback = (_, cert, _, _) => cert is not null && cert.GetCertHashString() == _pki.Server.GetCertHashString(),
            },
            AutomaticDecompression = DecompressionMethods.None,
        };
        var client = new HttpClient(handler) { BaseAddress = new Uri($"https://127.0.0.1:{Port}/"), Timeout = TimeSpan.FromSeconds(30) };
        _clients.Add(client);
        return client;
    }

    /// <summary>A client of a <c>plain</c> server (http://, no certificate).</summary>
    public HttpClient PlainClient()
    {
        var client = new HttpClient(new SocketsHttpHandler { AutomaticDecompression = DecompressionMethods.None })
        {
            BaseAddress = new Uri($"http://127.0.0.1:{Port}/"),
            Timeout = TimeSpan.FromSeconds(60),
        };
        _clients.Add(client);
        return client;
    }

    /// <summary>A raw TLS stream to the server, for tests that must misbehave at the byte level.</summary>
    public async Task<(Socket Socket, SslStream Stream)> ConnectRawAsync(X509Certificate2? certificate = null)
    {
        var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        await socket.ConnectAsync(IPAddress.Loopback, Port);
        var stream = new SslStream(new NetworkStream(socket, ownsSocket: true));
        await stream.AuthenticateAsClientAsync(new SslClientAuthenticationOptions
        {
            TargetHost = "localhost",
            ClientCertificates = new X509CertificateCollection { certificate ?? _pki.Laptop },
            RemoteCertificateValidationCallback = (_, _, _, _) => true,
        });
        return (socket, stream);
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var client in _clients)
        {
            client.Dispose();
        }

        await _server.DisposeAsync();
        try
        {
            Directory.Delete(_baseFolder, recursive: true);
        }
        catch (IOException)
        {
            // a tmpfs mount inside may still be busy; the OS temp cleaner gets it
        }
    }

    /// <summary>How many of this process's descriptors point at <paramref name="path"/> (Linux /proc).</summary>
    public static int OpenHandlesTo(string path)
    {
        if (!OperatingSystem.IsLinux())
        {
            return 0;
        }

        var count = 0;
        foreach (var fd in Directory.EnumerateFileSystemEntries("/proc/self/fd"))
        {
            try
            {
                if (new FileInfo(fd).LinkTarget == path)
                {
                    count++;
                }
            }
            catch (IOException)
            {
                // closed while we looked
            }
        }

        return count;
    }

    /// <summary>Polls until <paramref name="condition"/> holds (server-side cleanup runs after the client has gone).</summary>
    public static async Task<bool> EventuallyAsync(Func<bool> condition, int timeoutMs = 5000)
    {
        var deadline = Environment.TickCount64 + timeoutMs;
        while (!condition())
        {
            if (Environment.TickCount64 > deadline)
            {
                return false;
            }

            await Task.Delay(20);
        }

        return true;
    }
}
