using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Console;

namespace Gatehouse.Cli;

/// <summary>Logs as JSON lines on stderr (stdout carries only the ready line).</summary>
internal static class Logs
{
    public static ILoggerFactory Create(LogLevel minimum) => LoggerFactory.Create(builder =>
    {
        builder.SetMinimumLevel(minimum);
        builder.AddJsonConsole(options =>
        {
            options.UseUtcTimestamp = true;
            options.TimestampFormat = "yyyy-MM-ddTHH:mm:ss.fffZ";
            options.IncludeScopes = false;
        });
        builder.AddFilter<ConsoleLoggerProvider>(level => level >= minimum);
        builder.Services.Configure<ConsoleLoggerOptions>(options => options.LogToStandardErrorThreshold = LogLevel.Trace);
    });
}
