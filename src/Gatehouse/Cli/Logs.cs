using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Console;

namespace Gatehouse.Cli;

/// <summary>
/// Logs as JSON lines on stderr (stdout carries only the ready line). When stderr stops draining (a
/// stuck journal, a paused terminal) lines are dropped rather than waited for: requests run on the
/// socket event threads, and a logger that waits there would freeze every connection once its queue
/// and the pipe are full. The console logger reports how many lines it dropped once it can write again.
/// </summary>
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
        builder.Services.Configure<ConsoleLoggerOptions>(options =>
        {
            options.LogToStandardErrorThreshold = LogLevel.Trace;
            options.QueueFullMode = ConsoleLoggerQueueFullMode.DropWrite;
        });
    });
}
