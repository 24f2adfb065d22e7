using System.CommandLine;
using Gatehouse.Cli;

var root = new RootCommand("Gatehouse: one mutual-TLS door for a device's files, CouchDB, local web apps and WebSockets.")
{
    ServeCommand.Create(),
    InitCommand.Create(),
    PinCommand.Create(),
    KeyCommand.Create(),
    CertCommand.Create(),
    WsCommand.Create(),
    CheckConfigCommand.Create(),
    ConfigCommand.Create(),
    PasswdCommand.Create(),
    PeerCommand.Create(),
    PeersCommand.Create(),
    PairCommand.Create(),
    PairCommand.CreateUnpair(),
    UrlCommand.Create(),
    GrantsCommand.Create(),
    StatusCommand.Create(),
    VersionCommand.Create(),
};

// `gatehouse help [COMMAND]` is what people type first; it means `gatehouse [COMMAND] --help`.
if (args is ["help", .. var rest])
{
    args = [.. rest, "--help"];
}

var parsed = root.Parse(args);
if (parsed.Errors.Count > 0)
{
    foreach (var error in parsed.Errors)
    {
        Console.Error.WriteLine("gatehouse: " + error.Message);
    }

    Console.Error.WriteLine("Try 'gatehouse --help'.");
    return ExitCodes.Usage;
}

// serve handles SIGTERM/SIGINT itself (graceful drain, exit 0). System.CommandLine's own handler
// would race it and, when the signal comes early, make the exit code 143 after a clean stop.
return await parsed.InvokeAsync(new InvocationConfiguration { ProcessTerminationTimeout = null }).ConfigureAwait(false);
