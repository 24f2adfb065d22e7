using System.CommandLine;
using System.Globalization;
using System.Text;
using System.Text.Json;
using Gatehouse.Config;

namespace Gatehouse.Cli;

/// <summary>
/// <c>gatehouse peers --config FILE [--wait SECONDS] [--json]</c> (issue 21): the gateways the
/// running gateway sees on the local link now — name, pin, addresses with zone, last seen, and
/// whether it is a peer. Asked over the plain loopback listener, like <c>gatehouse status</c>.
/// With <c>--wait</c>, asks again (twice a second) until some other gateway is seen or the time is up.
/// </summary>
internal static class PeersCommand
{
    private static readonly TimeSpan PollEvery = TimeSpan.FromMilliseconds(500);

    public static Command Create()
    {
        var config = new Option<FileInfo>("--config", "-c") { Description = "the JSON config file (default: gatehouse.json here)", DefaultValueFactory = _ => new FileInfo("gatehouse.json") };
        var wait = new Option<double>("--wait") { Description = "wait up to SECONDS for a gateway to be seen (default 0: show what is seen now)" };
        var json = new Option<bool>("--json") { Description = "print the status's discovery section as JSON" };
        var command = new Command("peers", "Show the gateways seen on the local link now, and which are peers.") { config, wait, json };
        command.SetAction(async (result, cancellationToken) =>
        {
            Uri url;
            try
            {
                url = StatusCommand.StatusUrl(ConfigLoader.Load(result.GetValue(config)!.FullName));
            }
            catch (ConfigException ex)
            {
                await Console.Error.WriteLineAsync("gatehouse: " + ex.Message).ConfigureAwait(false);
                return ExitCodes.Usage;
            }

            var seconds = result.GetValue(wait);
            if (seconds is < 0 or > 3600 || double.IsNaN(seconds))
            {
                await Console.Error.WriteLineAsync("gatehouse: --wait takes 0..3600 seconds").ConfigureAwait(false);
                return ExitCodes.Usage;
            }

            var deadline = DateTimeOffset.UtcNow + TimeSpan.FromSeconds(seconds);
            using var http = new HttpClient(new SocketsHttpHandler { UseProxy = false, ConnectTimeout = TimeSpan.FromSeconds(5) }) { Timeout = TimeSpan.FromSeconds(10) };
            while (true)
            {
                var (discovery, error) = await AskAsync(http, url, cancellationToken).ConfigureAwait(false);
                if (error is not null)
                {
                    await Console.Error.WriteLineAsync("gatehouse: " + error).ConfigureAwait(false);
                    return ExitCodes.Failure;
                }

                var seen = discovery!.Value.GetProperty("seen").GetArrayLength();
                if (seen > 0 || DateTimeOffset.UtcNow >= deadline)
                {
                    Console.Out.Write(result.GetValue(json) ? discovery.Value.GetRawText() + "\n" : Describe(discovery.Value));
                    return seen > 0 || seconds == 0 ? ExitCodes.Ok : ExitCodes.Failure;
                }

                await Task.Delay(PollEvery, cancellationToken).ConfigureAwait(false);
            }
        });
        return command;
    }

    /// <summary>The discovery section of the gateway's status, or why there is none.</summary>
    private static async Task<(JsonElement? Discovery, string? Error)> AskAsync(HttpClient http, Uri url, CancellationToken cancellationToken)
    {
        string body;
        try
        {
            using var response = await http.GetAsync(url, cancellationToken).ConfigureAwait(false);
            body = await response.Content.ReadAsStringAsync(cancellationToken).ConfigureAwait(false);
            if (!response.IsSuccessStatusCode)
            {
                return (null, $"{url} answered {(int)response.StatusCode}: {body}");
            }
        }
        catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException)
        {
            return (null, $"no gateway answered at {url} ({ex.Message}); is `gatehouse serve` running with this config?");
        }

        try
        {
            using var status = JsonDocument.Parse(body);
            var discovery = status.RootElement.GetProperty("discovery");
            return discovery.ValueKind == JsonValueKind.Object
                ? (discovery.Clone(), null)
                : (null, "discovery is off in this gateway's config: add \"discovery\": { \"enabled\": true } and restart it");
        }
        catch (Exception ex) when (ex is JsonException or KeyNotFoundException or InvalidOperationException)
        {
            return (null, $"{url} did not send a status: {ex.Message}");
        }
    }

    internal static string Describe(JsonElement discovery)
    {
        var text = new StringBuilder();
        var interfaces = string.Join(", ", discovery.GetProperty("interfaces").EnumerateArray().Select(i => i.GetString()));
        text.Append(CultureInfo.InvariantCulture, $"this gateway: \"{discovery.GetProperty("name").GetString()}\", {(discovery.GetProperty("announcing").GetBoolean() ? "announcing" : "not announcing")} on {(interfaces.Length > 0 ? interfaces : "no interface")}\n");
        if (discovery.TryGetProperty("error", out var error))
        {
            text.Append(CultureInfo.InvariantCulture, $"discovery is off: {error.GetString()}\n");
        }

        var seen = discovery.GetProperty("seen").EnumerateArray().ToList();
        text.Append(CultureInfo.InvariantCulture, $"seen on the link ({seen.Count}):\n");
        foreach (var gateway in seen)
        {
            var paired = gateway.TryGetProperty("peer", out var peer) ? $"paired as \"{peer.GetString()}\"" : "not paired";
            text.Append(CultureInfo.InvariantCulture, $"  \"{gateway.GetProperty("name").GetString()}\"  {gateway.GetProperty("pin").GetString()}  {paired}  last seen {gateway.GetProperty("lastSeen").GetString()}\n");
            foreach (var address in gateway.GetProperty("addresses").EnumerateArray())
            {
                text.Append("    ").Append(address.GetString()).Append('\n');
            }
        }

        return text.ToString();
    }
}
