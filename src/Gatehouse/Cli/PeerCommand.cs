using System.CommandLine;
using System.Text.Json.Nodes;
using Gatehouse.Config;

namespace Gatehouse.Cli;

/// <summary>
/// <c>gatehouse peer add|remove</c>: edits the config's peer table (issue 8) through
/// <see cref="ConfigFileEditor"/>, so the result is validated before it replaces the file.
/// </summary>
internal static class PeerCommand
{
    private const string Caveat = "The file is rewritten as plain JSON: other fields are kept, comments are lost. A running gatehouse loads the change on SIGHUP.";

    public static Command Create() => new("peer", "Edit the peer table: other devices' Gatehouses, reached from loopback at /_peers/NAME/.")
    {
        Add(),
        Remove(),
    };

    private static Command Add()
    {
        var name = new Argument<string>("NAME") { Description = "the peer's name, as in /_peers/NAME/ and rules' \"peers\"" };
        var pins = new Option<string[]>("--pin") { Description = "the peer server's key pin (sha256//…, `gatehouse pin ITS.crt`); repeat for a rotation", Required = true, AllowMultipleArgumentsPerToken = false };
        var addresses = new Option<string[]>("--address") { Description = "host:port, [v6]:port or [fe80::1%eth0]:port; repeat, tried in order", Required = true };
        var certificate = new Option<string?>("--certificate") { Description = "a client certificate to present to this peer (default: the server's own)" };
        var key = new Option<string?>("--key") { Description = "its key" };
        var config = ConfigOption();
        var command = new Command("add", "Add a peer to the config's peer table. " + Caveat) { name, pins, addresses, certificate, key, config };
        command.SetAction(result => Run(() => ConfigFileEditor.Edit(result.GetValue(config)!.FullName, root =>
        {
            var peers = PeersOf(root);
            var peerName = result.GetValue(name)!;
            if (peers.Any(p => p?["name"]?.GetValue<string>() == peerName))
            {
                throw new ConfigException($"a peer named \"{peerName}\" is already in the table; `gatehouse peer remove {peerName}` first");
            }

            var entry = new JsonObject
            {
                ["name"] = peerName,
                ["pins"] = new JsonArray([.. result.GetValue(pins)!.Select(p => (JsonNode)p)]),
                ["addresses"] = new JsonArray([.. result.GetValue(addresses)!.Select(a => (JsonNode)a)]),
            };
            if (result.GetValue(certificate) is { } cert)
            {
                entry["certificate"] = cert;
            }

            if (result.GetValue(key) is { } keyFile)
            {
                entry["key"] = keyFile;
            }

            peers.Add((JsonNode)entry); // the JsonNode overload: Add<T> is not trim- or AOT-safe
        }), $"added peer \"{result.GetValue(name)}\""));
        return command;
    }

    private static Command Remove()
    {
        var name = new Argument<string>("NAME") { Description = "the peer's name" };
        var config = ConfigOption();
        var command = new Command("remove", "Remove a peer from the config's peer table (a rule naming it must go first). " + Caveat) { name, config };
        command.SetAction(result => Run(() => ConfigFileEditor.Edit(result.GetValue(config)!.FullName, root =>
        {
            var peers = PeersOf(root);
            var entry = peers.FirstOrDefault(p => p?["name"]?.GetValue<string>() == result.GetValue(name))
                ?? throw new ConfigException($"no peer named \"{result.GetValue(name)}\" in the table");
            peers.Remove(entry);
        }), $"removed peer \"{result.GetValue(name)}\""));
        return command;
    }

    private static Option<FileInfo> ConfigOption() => new("--config", "-c") { Description = "the JSON config file to edit", Required = true };

    private static JsonArray PeersOf(JsonObject root)
    {
        if (root["peers"] is JsonArray peers)
        {
            return peers;
        }

        if (root["peers"] is not null)
        {
            throw new ConfigException("$.peers must be a list");
        }

        var created = new JsonArray();
        root["peers"] = created;
        return created;
    }

    private static int Run(Action edit, string done)
    {
        try
        {
            edit();
            Console.Out.WriteLine(done);
            return ExitCodes.Ok;
        }
        catch (ConfigException ex)
        {
            Console.Error.WriteLine("gatehouse: " + ex.Message);
            return ExitCodes.Usage;
        }
    }
}
