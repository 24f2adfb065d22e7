using System.Diagnostics;
using System.Text;
using System.Text.Json;

namespace Gatehouse.Tests;

/// <summary>
/// The real executable, started as a user would: `gatehouse serve --config FILE [--env-stdin]`,
/// the environment written to stdin, readiness taken from the ready line (no sleeps).
/// Disposing kills it if it is still running.
/// </summary>
internal sealed class GatehouseProcess : IDisposable
{
    private readonly Process _process;
    private readonly StringBuilder _stderr = new();
    private readonly StringBuilder _stdout = new();
    private readonly TaskCompletionSource<string?> _firstLine = new(TaskCreationOptions.RunContinuationsAsynchronously);

    private GatehouseProcess(Process process)
    {
        _process = process;
    }

    public static string ExecutablePath => Path.Combine(AppContext.BaseDirectory, "gatehouse.dll");

    public int ProcessId => _process.Id;

    public string StandardError
    {
        get
        {
            lock (_stderr)
            {
                return _stderr.ToString();
            }
        }
    }

    /// <summary>Every stdout line so far (the ready line first), for tests that scan all output.</summary>
    public string StandardOutput
    {
        get
        {
            lock (_stdout)
            {
                return _stdout.ToString();
            }
        }
    }

    public static GatehouseProcess Start(string? stdin, params string[] args) => Start(stdin, readStderr: true, args);

    /// <summary>
    /// Starts it with a stderr pipe that nobody reads until <see cref="StartReadingStderr"/>: a log
    /// sink that has stalled (a full pipe to a stuck journal or terminal).
    /// </summary>
    public static GatehouseProcess StartWithStalledStderr(params string[] args) => Start(null, readStderr: false, args);

    public void StartReadingStderr() => _process.BeginErrorReadLine();

    /// <summary>Starts the executable inside network namespace <paramref name="netns"/> (`ip netns exec`, which execs, so the pid is gatehouse's).</summary>
    public static GatehouseProcess StartInNamespace(string netns, string? stdin, params string[] args) => Start(stdin, readStderr: true, args, netns);

    /// <summary>What runs the executable: `dotnet gatehouse.dll ARGS`, inside `ip netns exec NETNS` when given.</summary>
    private static ProcessStartInfo StartInfo(string[] args, string? netns)
    {
        var info = new ProcessStartInfo(netns is null ? "dotnet" : "ip")
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        if (netns is not null)
        {
            foreach (var arg in new[] { "netns", "exec", netns, "dotnet" })
            {
                info.ArgumentList.Add(arg);
            }
        }

        info.ArgumentList.Add(ExecutablePath);
        foreach (var arg in args)
        {
            info.ArgumentList.Add(arg);
        }

        return info;
    }

    private static GatehouseProcess Start(string? stdin, bool readStderr, string[] args, string? netns = null)
    {
        var info = StartInfo(args, netns);
        var process = Process.Start(info) ?? throw new InvalidOperationException("could not start gatehouse");
        var wrapper = new GatehouseProcess(process);
        process.ErrorDataReceived += (_, e) =>
        {
            if (e.Data is not null)
            {
                lock (wrapper._stderr)
                {
                    wrapper._stderr.AppendLine(e.Data);
                }

                TestLogFile.Write("process-stderr", e.Data);
            }
        };
        process.OutputDataReceived += (_, e) =>
        {
            if (e.Data is not null)
            {
                lock (wrapper._stdout)
                {
                    wrapper._stdout.AppendLine(e.Data);
                }

                TestLogFile.Write("process-stdout", e.Data);
            }

            wrapper._firstLine.TrySetResult(e.Data);
        };
        if (readStderr)
        {
            process.BeginErrorReadLine();
        }

        process.BeginOutputReadLine();
        if (stdin is not null)
        {
            process.StandardInput.Write(stdin);
            process.StandardInput.Flush();
        }

        return wrapper;
    }

    /// <summary>Runs a command to completion and returns its exit code, stdout and stderr.</summary>
    public static Task<(int ExitCode, string Stdout, string Stderr)> RunAsync(string? stdin, params string[] args) => RunAsync(stdin, args, netns: null);

    /// <summary>Runs the executable to the end inside network namespace <paramref name="netns"/>.</summary>
    public static Task<(int ExitCode, string Stdout, string Stderr)> RunInNamespaceAsync(string netns, params string[] args) => RunAsync(null, args, netns);

    private static async Task<(int ExitCode, string Stdout, string Stderr)> RunAsync(string? stdin, string[] args, string? netns)
    {
        var info = StartInfo(args, netns);
        using var process = Process.Start(info)!;
        if (stdin is not null)
        {
            await process.StandardInput.WriteAsync(stdin);
        }

        process.StandardInput.Close();
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        await process.WaitForExitAsync(timeout.Token);
        var (output, errors) = (await stdout, await stderr);
        TestLogFile.Write("process-stdout", output);
        TestLogFile.Write("process-stderr", errors);
        return (process.ExitCode, output, errors);
    }

    /// <summary>Waits for the ready line and returns it parsed.</summary>
    public async Task<JsonElement> WaitReadyAsync()
    {
        var exited = _process.WaitForExitAsync();
        var line = _firstLine.Task;
        var winner = await Task.WhenAny(line, exited, Task.Delay(TimeSpan.FromSeconds(60)));
        if (winner != line || line.Result is null)
        {
            throw new InvalidOperationException("gatehouse did not become ready; stderr:\n" + StandardError);
        }

        using var document = JsonDocument.Parse(line.Result);
        return document.RootElement.Clone();
    }

    public void CloseStdin() => _process.StandardInput.Close();

    public void Signal(int signal)
    {
        if (Kill(_process.Id, signal) != 0)
        {
            throw new InvalidOperationException("kill failed");
        }
    }

    public async Task<int> WaitForExitAsync(TimeSpan timeout)
    {
        using var cts = new CancellationTokenSource(timeout);
        await _process.WaitForExitAsync(cts.Token);
        return _process.ExitCode;
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
            // already gone
        }

        _process.Dispose();
    }

    [System.Runtime.InteropServices.DllImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static extern int Kill(int pid, int signal);
}
