using System.CommandLine;
using System.Globalization;
using System.Net.Sockets;
using Gatehouse.Config;
using Gatehouse.Wire;

namespace Gatehouse.Cli;

/// <summary>
/// <c>gatehouse url PEER DB</c>: the plain loopback URL a local CouchDB or PouchDB replicates with
/// to reach database DB on peer PEER (issue 8): the replicator needs no certificate and no pin,
/// since this device's Gatehouse carries the request over the key-pinned link.
/// </summary>
internal static class UrlCommand
{
    public static Command Create()
    {
        var peer = new Argument<string>("PEER") { Description = "a peer's name from the config's peer table" };
        var database = new Argument<string>("DB") { Description = "the database on the peer" };
        var config = new Option<FileInfo>("--config", "-c") { Description = "the JSON config file (default: gatehouse.json here)", DefaultValueFactory = _ => new FileInfo("gatehouse.json") };
        var prefix = new Option<string>("--prefix") { Description = "the peer's CouchDB route prefix", DefaultValueFactory = _ => "/couch/" };
        var command = new Command("url", "Print the loopback URL a local CouchDB/PouchDB uses to replicate with a peer's database.") { peer, database, config, prefix };
        command.SetAction(result =>
        {
            try
            {
                Console.Out.WriteLine(Url(ConfigLoader.Load(result.GetValue(config)!.FullName), result.GetValue(peer)!, result.GetValue(database)!, result.GetValue(prefix)!));
                return ExitCodes.Ok;
            }
            catch (ConfigException ex)
            {
                Console.Error.WriteLine("gatehouse: " + ex.Message);
                return ExitCodes.Usage;
            }
        });
        return command;
    }

    private static string Url(GatehouseConfig config, string peer, string database, string prefix)
    {
        if (!config.Peers.Any(p => p.Name == peer))
        {
            throw new ConfigException($"no peer named \"{peer}\" in $.peers (add one with `gatehouse peer add`)");
        }

        var loopback = config.Listen.FirstOrDefault(l => l.Local && !l.Tls)
            ?? throw new ConfigException("no plain loopback listener: add { \"address\": \"127.0.0.1\", \"port\": 5985, \"tls\": false, \"local\": true } to $.listen");
        if (loopback.Port == 0)
        {
            throw new ConfigException($"$.listen[{config.Listen.IndexOf(loopback)}].port is 0 (chosen at each start): give the loopback listener a fixed port so local apps get a stable URL");
        }

        var address = ListenEndpoint.ParseAddress(loopback.Address);
        var host = address.AddressFamily == AddressFamily.InterNetworkV6 ? $"[{address}]" : address.ToString();
        var mount = string.Join('/', prefix.Split('/', StringSplitOptions.RemoveEmptyEntries).Select(Uri.EscapeDataString));
        var port = loopback.Port.ToString(CultureInfo.InvariantCulture);

        // A database name may hold '/' (CouchDB allows it): it must travel as %2F inside one segment.
        return $"http://{host}:{port}/_peers/{Uri.EscapeDataString(peer)}/{(mount.Length == 0 ? string.Empty : mount + "/")}{Uri.EscapeDataString(database)}";
    }
}
