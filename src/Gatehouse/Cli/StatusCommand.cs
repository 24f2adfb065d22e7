using System.CommandLine;
using System.Globalization;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using Gatehouse.Config;
using Gatehouse.Wire;

namespace Gatehouse.Cli;

/// <summary>
/// <c>gatehouse status --config FILE</c> (issue 19 item 5): what <c>/_gatehouse/</c> shows, in a
/// terminal — asked of the running gateway on its plain loopback listener, as the local user.
/// </summary>
internal static class StatusCommand
{
    public static Command Create()
    {
        var config = new Option<FileInfo>("--config", "-c") { Description = "the JSON config file (default: gatehouse.json here)", DefaultValueFactory = _ => new FileInfo("gatehouse.json") };
        var json = new Option<bool>("--json") { Description = "print the status JSON as the gateway sent it" };
        var command = new Command("status", "Show the running gateway's listeners, connections, routes, upstreams and recent refusals.") { config, json };
        command.SetAction(async (result, cancellationToken) =>
        {
            Uri url;
            try
            {
                url = StatusUrl(ConfigLoader.Load(result.GetValue(config)!.FullName));
            }
            catch (ConfigException ex)
            {
                await Console.Error.WriteLineAsync("gatehouse: " + ex.Message).ConfigureAwait(false);
                return ExitCodes.Usage;
            }

            string body;
            try
            {
                using var http = new HttpClient(new SocketsHttpHandler { UseProxy = false, ConnectTimeout = TimeSpan.FromSeconds(5) }) { Timeout = TimeSpan.FromSeconds(10) };
                using var response = await http.GetAsync(url, cancellationToken).ConfigureAwait(false);
                body = await response.Content.ReadAsStringAsync(cancellationToken).ConfigureAwait(false);
                if (!response.IsSuccessStatusCode)
                {
                    await Console.Error.WriteLineAsync($"gatehouse: {url} answered {(int)response.StatusCode}: {body}").ConfigureAwait(false);
                    return ExitCodes.Failure;
                }
            }
            catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException)
            {
                await Console.Error.WriteLineAsync($"gatehouse: no gateway answered at {url} ({ex.Message}); is `gatehouse serve` running with this config?").ConfigureAwait(false);
                return ExitCodes.Failure;
            }

            if (result.GetValue(json))
            {
                Console.Out.WriteLine(body);
                return ExitCodes.Ok;
            }

            try
            {
                using var status = JsonDocument.Parse(body);
                Console.Out.Write(Describe(status.RootElement));
                return ExitCodes.Ok;
            }
            catch (Exception ex) when (ex is JsonException or KeyNotFoundException or InvalidOperationException)
            {
                await Console.Error.WriteLineAsync($"gatehouse: {url} did not send a status: {ex.Message}").ConfigureAwait(false);
                return ExitCodes.Failure;
            }
        });
        return command;
    }

    internal static Uri StatusUrl(GatehouseConfig config)
    {
        var loopback = config.Listen.FirstOrDefault(l => l.Local && !l.Tls)
            ?? throw new ConfigException("no plain loopback listener to ask: add { \"address\": \"127.0.0.1\", \"port\": 5985, \"tls\": false, \"local\": true } to $.listen");
        if (loopback.Port == 0)
        {
            throw new ConfigException($"$.listen[{config.Listen.IndexOf(loopback)}].port is 0 (chosen at each start): give the loopback listener a fixed port, or read the ready line's port and GET http://127.0.0.1:PORT/_gatehouse/");
        }

        var address = ListenEndpoint.ParseAddress(loopback.Address);
        var host = address.AddressFamily == AddressFamily.InterNetworkV6 ? $"[{address}]" : address.ToString();
        return new Uri($"http://{host}:{loopback.Port.ToString(CultureInfo.InvariantCulture)}/_gatehouse/status");
    }

    internal static string Describe(JsonElement status)
    {
        var text = new StringBuilder();
        text.Append(CultureInfo.InvariantCulture, $"gatehouse {status.GetProperty("pin").GetString()}, started {status.GetProperty("startedAt").GetString()}\n");
        text.Append("listeners:");
        foreach (var listener in status.GetProperty("listen").EnumerateArray())
        {
            text.Append(CultureInfo.InvariantCulture, $" {listener.GetProperty("address").GetString()} port {listener.GetProperty("port").GetInt32()} {(listener.GetProperty("tls").GetBoolean() ? "TLS" : "plain")};");
        }

        text.Append('\n');
        var reload = status.GetProperty("lastReload");
        text.Append(reload.ValueKind == JsonValueKind.Null
            ? "last reload: none since start\n"
            : $"last reload: {reload.GetProperty("time").GetString()} {(reload.GetProperty("succeeded").GetBoolean() ? "applied" : "refused: " + reload.GetProperty("error").GetString())}\n");
        var connections = status.GetProperty("connections");
        text.Append(CultureInfo.InvariantCulture, $"connected now: {connections.GetProperty("open").GetInt32()}\n");
        foreach (var principal in connections.GetProperty("byPrincipal").EnumerateObject())
        {
            text.Append(CultureInfo.InvariantCulture, $"  {principal.Name}  {principal.Value.GetInt32()}\n");
        }

        text.Append("routes:\n");
        foreach (var route in status.GetProperty("routes").EnumerateArray())
        {
            text.Append(CultureInfo.InvariantCulture, $"  {route.GetProperty("prefix").GetString()} ({route.GetProperty("kind").GetString()})\n");
            var grants = route.GetProperty("grants").EnumerateArray().ToList();
            foreach (var grant in grants)
            {
                text.Append("    ").Append(grant.GetString()).Append('\n');
            }

            if (grants.Count == 0)
            {
                text.Append("    nobody\n");
            }
        }

        text.Append("upstreams:\n");
        foreach (var node in status.GetProperty("upstreams").EnumerateArray())
        {
            text.Append(CultureInfo.InvariantCulture, $"  {node.GetProperty("upstream").GetString()}  {node.GetProperty("state").GetString()}, {node.GetProperty("inUse").GetInt32()} in use, {node.GetProperty("idle").GetInt32()} idle\n");
        }

        var refusals = status.GetProperty("refusals").EnumerateArray().ToList();
        text.Append(CultureInfo.InvariantCulture, $"recent refusals ({refusals.Count}, newest first):\n");
        foreach (var refusal in refusals)
        {
            text.Append(CultureInfo.InvariantCulture, $"  {refusal.GetProperty("time").GetString()}  {refusal.GetProperty("principal").GetString()}  {refusal.GetProperty("method").GetString()} {refusal.GetProperty("path").GetString()}  {refusal.GetProperty("status").GetInt32()}  {refusal.GetProperty("reason").GetString()}\n");
        }

        return text.ToString();
    }
}
