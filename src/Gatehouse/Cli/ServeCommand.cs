using System.CommandLine;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using System.Text.Json;
using Gatehouse.Config;
using Gatehouse.Hosting;
using Microsoft.Extensions.Logging;

namespace Gatehouse.Cli;

/// <summary><c>gatehouse serve --config FILE [--env-stdin]</c>: runs the gateway until SIGTERM or SIGINT.</summary>
internal static class ServeCommand
{
    private static readonly TimeSpan StdinTimeout = TimeSpan.FromSeconds(30);

    public static Command Create()
    {
        var config = new Option<FileInfo>("--config", "-c") { Description = "the JSON config file", Required = true };
        var envStdin = new Option<bool>("--env-stdin") { Description = "read one JSON object of secrets (CouchDB URL and credentials, key passphrase) from stdin" };
        var logLevel = new Option<LogLevel>("--log-level") { Description = "minimum log level on stderr", DefaultValueFactory = _ => LogLevel.Information };
        var noAccessLog = new Option<bool>("--no-access-log") { Description = "leave out the access line of each request (category Gatehouse.Access); every other line stays at --log-level" };
        var countBuffers = new Option<bool>("--count-buffers") { Description = "count pooled buffers rented and not returned (gauge gatehouse.buffers.outstanding on /_gatehouse/metrics); for soak runs" };
        var command = new Command("serve", "Run the gateway: prints one JSON ready line on stdout, logs on stderr.") { config, envStdin, logLevel, noAccessLog, countBuffers };
        command.SetAction((result, _) => RunAsync(
            result.GetValue(config)!, result.GetValue(envStdin), result.GetValue(logLevel), !result.GetValue(noAccessLog), result.GetValue(countBuffers)));
        return command;
    }

    private static async Task<int> RunAsync(FileInfo configFile, bool envStdin, LogLevel logLevel, bool accessLog, bool countBuffers)
    {
        SocketCompletions.PreferInline(); // before the first socket operation of the process
        using var loggers = Logs.Create(logLevel, accessLog);
        var log = loggers.CreateLogger("Gatehouse");
        GatehouseServer server;
        try
        {
            // Parsed once before stdin is read, so a broken config fails fast without waiting for secrets.
            ConfigLoader.Load(configFile.FullName);
            var environment = envStdin
                ? await StdinEnvironmentReader.ReadAsync(Console.OpenStandardInput(), StdinTimeout).ConfigureAwait(false)
                : null;
            // From the file, so SIGHUP can reload it (with the passphrase kept in memory).
            server = GatehouseServer.CreateFromFile(configFile.FullName, environment, new GatehouseServerOptions
            {
                Loggers = loggers,
                Buffers = countBuffers ? Wire.CountedBufferPools.Create() : Wire.BufferPools.Shared,
            });
        }
        catch (ConfigException ex)
        {
            await Console.Error.WriteLineAsync("gatehouse: " + ex.Message).ConfigureAwait(false);
            if (!envStdin && ex.Message.Contains("a passphrase is needed", StringComparison.Ordinal))
            {
                // Secrets never come in argv or the environment: say where this one goes.
                await Console.Error.WriteLineAsync($$"""gatehouse: give it on stdin: echo '{"keyPassphrase":"…"}' | gatehouse serve --config {{configFile}} --env-stdin""").ConfigureAwait(false);
            }

            return ExitCodes.Usage;
        }

        await using (server.ConfigureAwait(false))
        {
            try
            {
                server.Start();
            }
            catch (Exception ex) when (ex is SocketException or InvalidOperationException or IOException)
            {
                await Console.Error.WriteLineAsync("gatehouse: cannot listen: " + ex.Message).ConfigureAwait(false);
                return ExitCodes.Failure;
            }

            using var stop = new CancellationTokenSource();
            using var sigterm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, context => Stop(context, stop));
            using var sigint = PosixSignalRegistration.Create(PosixSignal.SIGINT, context => Stop(context, stop));
            using var sighup = PosixSignalRegistration.Create(PosixSignal.SIGHUP, context => Reload(context, server));

            var ready = JsonSerializer.Serialize(server.CreateReadyLine(), ConfigJsonContext.Output.ReadyLine);
            await Console.Out.WriteLineAsync(ready).ConfigureAwait(false);
            await Console.Out.FlushAsync().ConfigureAwait(false);
            log.LogInformation("listening on {Endpoints} as {Pin}", string.Join(", ", server.BoundEndpoints), server.Pin);
            await using var memoryReturn = new MemoryReturn(loggers.CreateLogger("Gatehouse.Memory"));

            try
            {
                await Task.Delay(Timeout.Infinite, stop.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                // SIGTERM or SIGINT: the normal way out.
            }

            log.LogInformation("stopping: finishing in-flight requests for up to {Grace}", server.Limits.Wire.ShutdownGrace);
            await server.StopAsync().ConfigureAwait(false);
            log.LogInformation("stopped");
        }

        return ExitCodes.Ok;
    }

    /// <summary>SIGHUP: reload identity and trust (issue 7); the reload logs its own result, and a failure keeps the old config.</summary>
    private static void Reload(PosixSignalContext context, GatehouseServer server)
    {
        context.Cancel = true; // SIGHUP's default action would end the process
        _ = server.ReloadAsync();
    }

    private static void Stop(PosixSignalContext context, CancellationTokenSource stop)
    {
        context.Cancel = true; // we shut down gracefully ourselves
        if (stop.IsCancellationRequested)
        {
            // A second SIGTERM/SIGINT while draining: the user wants out now (issue 10).
            Console.Error.WriteLine("gatehouse: second signal, exiting without waiting for in-flight requests");
            Environment.Exit(ExitCodes.Failure);
        }

        stop.Cancel();
    }
}
