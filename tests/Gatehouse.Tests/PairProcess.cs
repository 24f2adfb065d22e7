using System.Diagnostics;
using System.Text;
using System.Text.RegularExpressions;

namespace Gatehouse.Tests;

/// <summary>
/// `gatehouse pair` as a person runs it: stdout read line by line so a test can wait for a line
/// (the listener's address, the code) and answer on stdin. Disposing kills it if still running.
/// </summary>
internal sealed class PairProcess : IDisposable
{
    private readonly Process _process;
    private readonly StringBuilder _stdout = new();
    private readonly StringBuilder _stderr = new();
    private readonly List<(Regex Pattern, TaskCompletionSource<Match> Found)> _waiters = [];

    private PairProcess(Process process)
    {
        _process = process;
    }

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

    public static PairProcess Start(params string[] args) => Start(null, args);

    /// <summary>`gatehouse pair ARGS` inside network namespace <paramref name="netns"/> (`ip netns exec` execs, so killing it kills gatehouse).</summary>
    public static PairProcess StartInNamespace(string netns, params string[] args) => Start(netns, args);

    private static PairProcess Start(string? netns, string[] args)
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

        info.ArgumentList.Add(GatehouseProcess.ExecutablePath);
        info.ArgumentList.Add("pair");
        foreach (var arg in args)
        {
            info.ArgumentList.Add(arg);
        }

        var process = Process.Start(info) ?? throw new InvalidOperationException("could not start gatehouse");
        var wrapper = new PairProcess(process);
        process.OutputDataReceived += (_, e) => wrapper.OnLine(e.Data);
        process.ErrorDataReceived += (_, e) =>
        {
            if (e.Data is not null)
            {
                lock (wrapper._stderr)
                {
                    wrapper._stderr.AppendLine(e.Data);
                }

                TestLogFile.Write("pair-stderr", e.Data);
            }
        };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return wrapper;
    }

    /// <summary>The first stdout line (so far or to come) matching <paramref name="pattern"/>; fails after 60 s or when the process exits first.</summary>
    public async Task<Match> WaitForLineAsync(string pattern)
    {
        var regex = new Regex(pattern, RegexOptions.CultureInvariant);
        var found = new TaskCompletionSource<Match>(TaskCreationOptions.RunContinuationsAsynchronously);
        lock (_stdout)
        {
            if (FirstMatch(regex) is { } match)
            {
                return match;
            }

            _waiters.Add((regex, found));
        }

        var exited = _process.WaitForExitAsync();
        var winner = await Task.WhenAny(found.Task, exited, Task.Delay(TimeSpan.FromSeconds(60)));
        if (winner != found.Task)
        {
            // A process that prints its line and exits at once can be seen to exit first (a CI run
            // failed with the line in the stdout it printed): look once more before failing.
            lock (_stdout)
            {
                if (FirstMatch(regex) is { } late)
                {
                    return late;
                }
            }

            throw new InvalidOperationException($"no line like /{pattern}/; stdout:\n{StandardOutput}\nstderr:\n{StandardError}");
        }

        return await found.Task;
    }

    private Match? FirstMatch(Regex regex)
    {
        foreach (var line in _stdout.ToString().Split('\n'))
        {
            if (regex.Match(line.TrimEnd('\r')) is { Success: true } match)
            {
                return match;
            }
        }

        return null;
    }

    public async Task AnswerAsync(string line)
    {
        await _process.StandardInput.WriteLineAsync(line);
        await _process.StandardInput.FlushAsync();
    }

    /// <summary>
    /// Answers unless the process has already ended: a side the other device turned down may exit
    /// before its person answers, and writing to its closed stdin is then a broken pipe.
    /// </summary>
    public async Task AnswerIfStillRunningAsync(string line)
    {
        try
        {
            await AnswerAsync(line);
        }
        catch (IOException) when (_process.WaitForExit(10_000))
        {
            // it left first; its exit code and stderr say why
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

    private void OnLine(string? line)
    {
        if (line is null)
        {
            return;
        }

        TestLogFile.Write("pair-stdout", line);
        lock (_stdout)
        {
            _stdout.AppendLine(line);
            foreach (var waiter in _waiters.ToList())
            {
                if (waiter.Pattern.Match(line) is { Success: true } match)
                {
                    _waiters.Remove(waiter);
                    waiter.Found.TrySetResult(match);
                }
            }
        }
    }
}
