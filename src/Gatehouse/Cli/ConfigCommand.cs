using System.CommandLine;

namespace Gatehouse.Cli;

/// <summary><c>gatehouse config defaults</c>: what a config gets when it leaves a listener or a limit out.</summary>
internal static class ConfigCommand
{
    public static Command Create()
    {
        var defaults = new Command("defaults", "Print the default listener and limits as JSON (durations in seconds), ready to copy into a config.");
        defaults.SetAction(_ =>
        {
            using var stdout = Console.OpenStandardOutput();
            stdout.Write(ConfigDefaults.ToJson());
            stdout.Write("\n"u8);
            return ExitCodes.Ok;
        });

        var command = new Command("config", "Config helpers (the schema is gatehouse.schema.json, validation is check-config).") { defaults };
        // A bare `gatehouse config` is a usage error, not silence.
        command.SetAction(_ =>
        {
            Console.Error.WriteLine("gatehouse: config: name a subcommand (defaults). Try 'gatehouse config --help'.");
            return ExitCodes.Usage;
        });
        return command;
    }
}
