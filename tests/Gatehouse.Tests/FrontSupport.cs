using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using Gatehouse.Wire;
using Microsoft.Extensions.Logging;

namespace Gatehouse.Tests;

/// <summary>A real backend no one here wrote: <c>python3 -m http.server</c> (or a wsgiref app) on loopback, killed on Dispose.</summary>
internal sealed class PythonHttpServer : IDisposable
{
    private readonly Process _process;

    private PythonHttpServer(Process process, int port, string root)
    {
        _process = process;
        Port = port;
        Root = root;
    }

    public int Port { get; }

    public string Root { get; }

    /// <summary>
    /// A WSGI app on Python's own server (wsgiref) answering each request with its environ's
    /// <c>HTTP_*</c> keys as JSON: what a WSGI/CGI app reads, where <c>X_User</c> and <c>X-User</c>
    /// are both <c>HTTP_X_USER</c> (repeats are joined with ",").
    /// </summary>
    public static Task<PythonHttpServer> StartWsgiEnvironAsync() => StartAsync(string.Empty, ["-c", """
        import json
        from wsgiref.simple_server import make_server, WSGIRequestHandler
        class Quiet(WSGIRequestHandler):
            def log_message(self, *args): pass
        def app(environ, start_response):
            body = json.dumps({k: v for k, v in environ.items() if k.startswith('HTTP_')}).encode()
            start_response('200 OK', [('Content-Type', 'application/json'), ('Content-Length', str(len(body)))])
            return [body]
        server = make_server('127.0.0.1', 0, app, handler_class=Quiet)
        print('Serving WSGI on 127.0.0.1 port %d ' % server.server_port)
        server.serve_forever()
        """]);

    /// <summary>Serves <paramref name="root"/> with <c>python3 -m http.server</c>.</summary>
    public static Task<PythonHttpServer> StartAsync(string root) =>
        StartAsync(root, ["-m", "http.server", "0", "--bind", "127.0.0.1", "--directory", root]);

    /// <summary>Starts on port 0 and learns the port from the line the server prints when it listens.</summary>
    private static async Task<PythonHttpServer> StartAsync(string root, string[] args)
    {
        var info = new ProcessStartInfo("python3") { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true };
        info.Environment["PYTHONUNBUFFERED"] = "1"; // the "Serving HTTP on … port N" line must not wait in a pipe buffer
        foreach (var arg in args)
        {
            info.ArgumentList.Add(arg);
        }

        var listening = new TaskCompletionSource<int>(TaskCreationOptions.RunContinuationsAsynchronously);
        var process = Process.Start(info)!;
        process.OutputDataReceived += (_, e) =>
        {
            var match = e.Data is null ? null : System.Text.RegularExpressions.Regex.Match(e.Data, @" port (\d+) ");
            if (match is { Success: true })
            {
                listening.TrySetResult(int.Parse(match.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture));
            }
        };
        process.ErrorDataReceived += (_, _) => { };
        process.EnableRaisingEvents = true;
        process.Exited += (_, _) => listening.TrySetException(new InvalidOperationException("python3 exited before listening"));
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        try
        {
            var port = await listening.Task.WaitAsync(TimeSpan.FromSeconds(15));
            return new PythonHttpServer(process, port, root);
        }
        catch
        {
            process.Kill(entireProcessTree: true);
            process.Dispose();
            throw;
        }
    }

    public void Dispose()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            _process.WaitForExit(5000);
        }

        _process.Dispose();
    }
}

internal static class FrontPorts
{
    public static int Free()
    {
        using var probe = new TcpListener(IPAddress.Loopback, 0);
        probe.Start();
        return ((IPEndPoint)probe.LocalEndpoint).Port;
    }

    /// <summary>Waits until something accepts on 127.0.0.1:<paramref name="port"/> (no sleeps beyond polling).</summary>
    public static async Task WaitAsync(int port, Process? process = null)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(15);
        while (DateTime.UtcNow < deadline)
        {
            if (process is { HasExited: true })
            {
                throw new InvalidOperationException($"backend exited with {process.ExitCode} before listening");
            }

            try
            {
                using var probe = new TcpClient();
                await probe.ConnectAsync(IPAddress.Loopback, port);
                return;
            }
            catch (SocketException)
            {
                await Task.Delay(50);
            }
        }

        throw new TimeoutException($"nothing listened on port {port}");
    }
}

/// <summary>
/// A tiny backend that records each request head it receives and answers with a fixed response
/// (TCP on loopback, or a Unix socket). For checking exactly what the gateway sends.
/// </summary>
internal sealed class RecordingBackend : IAsyncDisposable
{
    private readonly Socket _listener;
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _loop;
    private readonly Func<string, string> _respond;

    public RecordingBackend(Func<string, string>? respond = null, string? unixPath = null, bool ipv6 = false)
    {
        _respond = respond ?? (_ => "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Type: text/plain\r\n\r\nok");
        if (unixPath is null)
        {
            var address = ipv6 ? IPAddress.IPv6Loopback : IPAddress.Loopback;
            _listener = new Socket(address.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
            _listener.Bind(new IPEndPoint(address, 0));
            Port = ((IPEndPoint)_listener.LocalEndPoint!).Port;
        }
        else
        {
            _listener = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
            _listener.Bind(new UnixDomainSocketEndPoint(unixPath));
        }

        _listener.Listen(16);
        _loop = AcceptLoopAsync();
    }

    public int Port { get; }

    public ConcurrentQueue<string> Heads { get; } = new();

    /// <summary>Connections accepted so far (a discarded upstream connection shows as a new one next time).</summary>
    public int Accepted => Volatile.Read(ref _accepted);

    private int _accepted;

    /// <summary>The values of <paramref name="name"/> in the last recorded head.</summary>
    public List<string> Values(string name) =>
        Heads.Last().Split("\r\n").Skip(1)
            .Where(line => line.StartsWith(name + ":", StringComparison.OrdinalIgnoreCase))
            .Select(line => line[(name.Length + 1)..].Trim()).ToList();

    private async Task AcceptLoopAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            Socket client;
            try
            {
                client = await _listener.AcceptAsync(_stop.Token);
            }
            catch (Exception ex) when (ex is OperationCanceledException or SocketException or ObjectDisposedException)
            {
                return;
            }

            Interlocked.Increment(ref _accepted);
            _ = ServeAsync(client);
        }
    }

    private async Task ServeAsync(Socket client)
    {
        using var stream = new NetworkStream(client, ownsSocket: true);
        var buffer = new byte[64 * 1024];
        var used = 0;
        try
        {
            while (true)
            {
                var text = Encoding.Latin1.GetString(buffer, 0, used);
                var end = text.IndexOf("\r\n\r\n", StringComparison.Ordinal);
                if (end >= 0)
                {
                    var head = text[..end];
                    Heads.Enqueue(head);
                    await stream.WriteAsync(Encoding.Latin1.GetBytes(_respond(head)), _stop.Token);
                    used -= end + 4;
                    Array.Copy(buffer, end + 4, buffer, 0, used);
                    continue;
                }

                var read = await stream.ReadAsync(buffer.AsMemory(used), _stop.Token);
                if (read == 0)
                {
                    return;
                }

                used += read;
            }
        }
        catch (Exception ex) when (ex is IOException or OperationCanceledException or SocketException or ObjectDisposedException)
        {
            // The gateway closed the connection or the test ended.
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        _listener.Dispose();
        await _loop;
        _stop.Dispose();
    }
}

/// <summary>Client certificate and key as PEM files for curl and node, issued by the gateway's CA.</summary>
internal sealed record ClientPem(string Certificate, string Key, string Pin)
{
    public static ClientPem Issue(InProcessGateway gateway, string name)
    {
        using var client = CertificateFactory.IssueClient(gateway.Ca, name);
        var certificate = gateway.Dir.File(name + ".crt");
        var key = gateway.Dir.File(name + ".key");
        PemFiles.WriteCertificate(certificate, client);
        PemFiles.WritePrivateKey(key, client.GetECDsaPrivateKey()!, default);
        return new ClientPem(certificate, key, KeyPin.Compute(client));
    }

    public string[] CurlArgs => ["--cert", Certificate, "--key", Key];
}

/// <summary>Collects log lines in memory, to check what was (and was not) logged.</summary>
internal sealed class CapturedLogs : ILoggerProvider
{
    private readonly ConcurrentQueue<string> _lines = new();

    public ILoggerFactory Factory => LoggerFactory.Create(builder => builder.AddProvider(this).SetMinimumLevel(LogLevel.Debug));

    public string Text => string.Join('\n', _lines);

    public ILogger CreateLogger(string categoryName) => new Logger(categoryName, _lines);

    public void Dispose()
    {
    }

    private sealed class Logger(string category, ConcurrentQueue<string> lines) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
            lines.Enqueue($"{logLevel} {category}: {formatter(state, exception)}");
    }
}
