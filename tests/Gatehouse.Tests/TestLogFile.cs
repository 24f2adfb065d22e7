using Gatehouse.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Gatehouse.Tests;

/// <summary>
/// Issue 11's whole-suite log scan: every gateway a test starts (in-process through
/// <see cref="InProcessGateway"/> or <see cref="Tee"/>, or the real executable through
/// <see cref="GatehouseProcess"/>) also writes every log line, at every level, to one file per test
/// process in <c>GATEHOUSE_TEST_LOG_DIR</c>. scripts/test.sh sets it and, after the suite, runs
/// tests/LogScan.Tests, which fails when a <see cref="TestSecrets"/> value is in any of those
/// lines. Unset (a developer's `dotnet test`), nothing is written: no files left behind.
/// </summary>
public static class TestLogFile
{
    public const string DirectoryVariable = "GATEHOUSE_TEST_LOG_DIR";

    private static readonly Lazy<StreamWriter?> Writer = new(Open);

    /// <summary>Appends one line tagged with where it came from (the scan asks that both sources wrote).</summary>
    public static void Write(string source, string line)
    {
        if (Writer.Value is not { } writer)
        {
            return;
        }

        lock (writer)
        {
            writer.Write(source);
            writer.Write(' ');
            writer.WriteLine(line.ReplaceLineEndings(" | "));
        }
    }

    /// <summary>
    /// Loggers for a server under test: <paramref name="inner"/> (the test's own capture, or none)
    /// plus the run's log file, at every level — Debug and Trace lines are scanned too.
    /// </summary>
    public static ILoggerFactory Tee(ILoggerFactory? inner) => new TeeFactory(inner ?? NullLoggerFactory.Instance);

    /// <summary><paramref name="options"/> (or new ones) with their loggers teed into the run's log file.</summary>
    public static GatehouseServerOptions Options(GatehouseServerOptions? options = null)
    {
        options ??= new GatehouseServerOptions();
        options.Loggers = Tee(options.Loggers);
        return options;
    }

    private static StreamWriter? Open()
    {
        var directory = Environment.GetEnvironmentVariable(DirectoryVariable);
        if (string.IsNullOrEmpty(directory))
        {
            return null;
        }

        Directory.CreateDirectory(directory);
        var name = $"{AppDomain.CurrentDomain.FriendlyName}-{Environment.ProcessId}.log";
        return new StreamWriter(new FileStream(Path.Combine(directory, name), FileMode.Append, FileAccess.Write, FileShare.ReadWrite)) { AutoFlush = true };
    }

    private sealed class TeeFactory(ILoggerFactory inner) : ILoggerFactory
    {
        public ILogger CreateLogger(string categoryName) => new TeeLogger(categoryName, inner.CreateLogger(categoryName));

        public void AddProvider(ILoggerProvider provider) => inner.AddProvider(provider);

        public void Dispose()
        {
            // The inner factory belongs to the test that made it.
        }
    }

    private sealed class TeeLogger(string category, ILogger inner) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => inner.BeginScope(state);

        public bool IsEnabled(LogLevel logLevel) => logLevel != LogLevel.None;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            if (inner.IsEnabled(logLevel))
            {
                inner.Log(logLevel, eventId, state, exception, formatter);
            }

            // The formatted message, every structured value (one not in the template would still
            // reach a JSON log) and the exception with its inner ones.
            var line = $"{logLevel} {category}: {formatter(state, exception)}";
            if (state is IEnumerable<KeyValuePair<string, object?>> values)
            {
                line += " {" + string.Join(", ", values.Select(v => $"{v.Key}={v.Value}")) + "}";
            }

            Write("in-process", exception is null ? line : line + " " + exception);
        }
    }
}
