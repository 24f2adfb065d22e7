using System.Diagnostics;
using System.Text.Json;

namespace Gatehouse.Tests;

/// <summary>
/// Runs one of the PouchDB scripts in tests/Gatehouse.Tests/node with the project's Node modules
/// and returns the JSON line it prints last (its verdict). Killed if it runs past a minute.
/// </summary>
internal static class NodeReplicator
{
    public static async Task<JsonElement> RunAsync(string script, params string[] args)
    {
        using var process = Start(script, args);
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        try
        {
            await process.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw;
        }

        var line = (await stdout).Trim();
        Assert.False(string.IsNullOrEmpty(line), $"{script} printed nothing: " + await stderr);
        using var document = JsonDocument.Parse(line.Split('\n')[^1]);
        return document.RootElement.Clone();
    }

    /// <summary>Starts the script (first argument after it: the project's node_modules) with its output redirected.</summary>
    public static Process Start(string script, params string[] args)
    {
        var root = PouchDbServer.RepositoryRoot;
        var info = new ProcessStartInfo("node") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        info.ArgumentList.Add(Path.Combine(root, "tests", "Gatehouse.Tests", "node", script));
        info.ArgumentList.Add(Path.Combine(root, "tools", "node_modules"));
        foreach (var arg in args)
        {
            info.ArgumentList.Add(arg);
        }

        return Process.Start(info)!;
    }
}
