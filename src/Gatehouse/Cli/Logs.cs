using Gatehouse.Logging;
using Gatehouse.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Gatehouse.Cli;

/// <summary>
/// Logs as JSON lines on stderr (stdout carries only the ready line). The lines are written in
/// batches on a thread of their own (<see cref="LogLineWriter"/>): an access line per request costs
/// a copy, not a write. When stderr stops draining (a stuck journal, a paused terminal) lines are
/// dropped rather than waited for: requests run on the socket event threads, and a logger that
/// waited there would freeze every connection. A line says how many were dropped once stderr drains again.
/// </summary>
internal static class Logs
{
    /// <param name="accessLog">False: no access lines, whatever the level (a busy gateway's biggest share of its log, and of its logging's CPU).</param>
    public static ILoggerFactory Create(LogLevel minimum, bool accessLog = true) => LoggerFactory.Create(builder =>
    {
        builder.SetMinimumLevel(minimum);
        if (!accessLog)
        {
            builder.AddFilter(AccessLog.Category, LogLevel.None);
        }

        // Made by the container, so disposing the factory disposes it too, which writes the last lines
        // (an instance handed to AddProvider would never be disposed, and the lines of the stop lost).
        builder.Services.AddSingleton<ILoggerProvider>(_ => new JsonLineLoggerProvider(Console.OpenStandardError(), minimum));
    });
}
