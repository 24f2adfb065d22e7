using System.Text.RegularExpressions;
using Gatehouse.Hosting;
using Gatehouse.Wire;

namespace Gatehouse.Tests;

/// <summary>One access line per request (issue 11): canonical path, never the query; status, principal, bytes and duration.</summary>
public sealed partial class AccessLogTests
{
    [Fact]
    public async Task EachRequestLeavesOneLineWithoutItsQuery()
    {
        var logs = new CapturedLogs();
        await using var gateway = await InProcessGateway.StartAsync(options: new GatehouseServerOptions { Loggers = logs.Factory });
        using var client = CertificateFactory.IssueClient(gateway.Ca, "alice-laptop");
        using var http = gateway.CreateClient(client);
        (await http.GetAsync("/_gatehouse/whoami?token=" + TestSecrets.QueryToken)).Dispose();

        // The access line is written just after the answer goes out: wait for it, bounded.
        static bool IsAccessLine(string l) => l.Contains("Gatehouse.Access", StringComparison.Ordinal) && l.Contains("/_gatehouse/whoami", StringComparison.Ordinal);
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (!logs.Text.Split('\n').Any(IsAccessLine) && DateTime.UtcNow < deadline)
        {
            await Task.Delay(20);
        }

        var line = Assert.Single(logs.Text.Split('\n'), IsAccessLine);
        Assert.Contains("GET /_gatehouse/whoami 200", line);
        Assert.Contains("principal=" + KeyPin.Compute(client), line);
        Assert.Matches(Duration(), line);
        Assert.DoesNotContain(TestSecrets.QueryToken, logs.Text);
    }

    [GeneratedRegex(@" ms=\d+(\.\d+)?")]
    private static partial Regex Duration();
}
