using Gatehouse.Tests;

namespace Gatehouse.LogScan.Tests;

/// <summary>
/// Issue 11: no secret, credential, cookie or query parameter named like a secret ever appears in a
/// log. scripts/test.sh points GATEHOUSE_TEST_LOG_DIR at a fresh folder, every gateway the suite
/// starts writes its log lines there (tests/Gatehouse.Tests/TestLogFile.cs), and this project, run
/// last, searches them for every value in <see cref="TestSecrets"/>.
/// </summary>
public sealed class WholeSuiteLogScanTests
{
    /// <summary>Below this many lines from each source, the capture is broken and a clean scan would prove nothing.</summary>
    private const int MinimumLinesPerSource = 50; // a full run writes ~3,700 in-process and ~130 process lines

    [Fact]
    public void NoTestSecretAppearsInAnyLogOfTheSuite()
    {
        var directory = Environment.GetEnvironmentVariable("GATEHOUSE_TEST_LOG_DIR");
        Assert.False(string.IsNullOrEmpty(directory), "GATEHOUSE_TEST_LOG_DIR is not set: run the suite with scripts/test.sh (make test), which sets it and runs this scan last");
        Assert.True(Directory.Exists(directory), $"{directory}: no logs were written");

        var sources = LogScanner.LinesBySource(directory);
        foreach (var source in new[] { "in-process", "process-stderr" })
        {
            Assert.True(
                sources.GetValueOrDefault(source) >= MinimumLinesPerSource,
                $"only {sources.GetValueOrDefault(source)} log lines from {source} in {directory}: the capture is broken, and a clean scan would prove nothing");
        }

        var findings = LogScanner.Scan(directory, TestSecrets.All);
        Assert.True(findings.Count == 0, "test secrets in the logs:\n" + string.Join('\n', findings.Select(f => $"{f.File}:{f.Line}: {f.SecretName}")));
    }

    [Fact]
    public void TheScannerFindsAPlantedSecretAndItsBasicForm()
    {
        var directory = Path.Combine(Path.GetTempPath(), "gatehouse-logscan-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(directory);
        try
        {
            var basic = TestSecrets.All.Single(s => s.Key == "Basic(bob:…)" && s.Value.Length > 0 && Decode(s.Value).EndsWith(TestSecrets.LeakBobPassword, StringComparison.Ordinal));
            File.WriteAllLines(Path.Combine(directory, "clean.log"), ["in-process Information Gatehouse.Access: GET /files/x 200", "process-stderr {\"msg\":\"ready\"}"]);
            Assert.Empty(LogScanner.Scan(directory, TestSecrets.All));

            File.WriteAllLines(Path.Combine(directory, "leaky.log"),
            [
                "in-process Information Gatehouse.Access: GET /files/x 200",
                $"process-stderr {{\"msg\":\"env {{\\\"keyPassphrase\\\":\\\"{TestSecrets.LeakPassphrase}\\\"}}\"}}",
                $"in-process Debug Gatehouse.Upstream: Authorization: Basic {basic.Value}",
            ]);
            var findings = LogScanner.Scan(directory, TestSecrets.All);

            Assert.Equal(
                [new LogFinding("leaky.log", 2, nameof(TestSecrets.LeakPassphrase)), new LogFinding("leaky.log", 3, basic.Key)],
                findings);
            Assert.Equal(3, LogScanner.LinesBySource(directory)["in-process"]);
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    private static string Decode(string base64) => System.Text.Encoding.UTF8.GetString(Convert.FromBase64String(base64));
}
