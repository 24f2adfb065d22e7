using System.Diagnostics;

namespace Gatehouse.Wire.Tests;

/// <summary>Runs openssl (or a shell pipeline of it) and returns stdout; fails the test on a non-zero exit.</summary>
internal static class Openssl
{
    public static string Shell(string script, string? workingDirectory = null)
    {
        var start = new ProcessStartInfo("/bin/sh")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = workingDirectory ?? Environment.CurrentDirectory,
        };
        start.ArgumentList.Add("-c");
        start.ArgumentList.Add("set -e; " + script);
        using Process process = Process.Start(start)!;
        Task<string> stdout = process.StandardOutput.ReadToEndAsync();
        Task<string> stderr = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(20_000))
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException("openssl did not finish: " + script);
        }

        Assert.True(process.ExitCode == 0, $"'{script}' exited {process.ExitCode}: {stderr.Result}");
        return stdout.Result;
    }
}

/// <summary>A temporary folder removed at the end of the test.</summary>
internal sealed class TempDir : IDisposable
{
    public TempDir()
    {
        Path = Directory.CreateTempSubdirectory("gatehouse-wire-").FullName;
    }

    public string Path { get; }

    public string File(string name) => System.IO.Path.Combine(Path, name);

    public void Dispose() => Directory.Delete(Path, recursive: true);
}
