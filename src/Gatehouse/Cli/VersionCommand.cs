using System.CommandLine;
using System.Reflection;

namespace Gatehouse.Cli;

internal static class VersionCommand
{
    public static Command Create()
    {
        var command = new Command("version", "Print the version.");
        command.SetAction(_ =>
        {
            var version = typeof(VersionCommand).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion ?? "0.0.0";
            Console.Out.WriteLine("gatehouse " + version);
            return ExitCodes.Ok;
        });
        return command;
    }
}
