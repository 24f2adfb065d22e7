using System.Buffers;
using System.Security.Cryptography;
using System.Text.Json;

namespace Gatehouse.Config;

/// <summary>
/// Reads exactly one JSON object from stdin — no more, so the parent may keep the pipe open —
/// and wipes the raw bytes afterwards (they hold the key passphrase and CouchDB passwords).
/// </summary>
public static class StdinEnvironmentReader
{
    private const string ExpectedShape = """{"keyPassphrase":"…","couchdb":{"url":"http://127.0.0.1:5984/","credentials":{"device":{"username":"…","password":"…"}}}}""";

    private const int MaxBytes = 1024 * 1024;

    public static async Task<StdinEnvironment> ReadAsync(Stream input, TimeSpan timeout)
    {
        var buffer = new ArrayBufferWriter<byte>(1024);
        try
        {
            var readAll = ReadOneValueAsync(input, buffer);
            if (await Task.WhenAny(readAll, Task.Delay(timeout)).ConfigureAwait(false) != readAll)
            {
                throw new ConfigException($"stdin: no environment JSON received within {timeout.TotalSeconds:0} s (--env-stdin)");
            }

            await readAll.ConfigureAwait(false);
            return Parse(buffer.WrittenSpan);
        }
        finally
        {
            ClearWritten(buffer);
        }
    }

    public static StdinEnvironment Parse(ReadOnlySpan<byte> json)
    {
        if (json.Trim(" \t\r\n"u8).IsEmpty)
        {
            throw new ConfigException("stdin: empty; expected one JSON object (--env-stdin)");
        }

        StdinEnvironment? environment;
        try
        {
            environment = JsonSerializer.Deserialize(json, ConfigJsonContext.Default.StdinEnvironment);
        }
        catch (JsonException ex)
        {
            // The message says where, never what: the bytes are secrets.
            throw new ConfigException($"stdin: {ex.Path ?? "$"}: malformed environment JSON (line {ex.LineNumber + 1}, byte {ex.BytePositionInLine}); expected one object such as {ExpectedShape}", ex);
        }

        if (environment is null)
        {
            throw new ConfigException("stdin: expected a JSON object");
        }

        if (environment.Couchdb is { } couch)
        {
            try
            {
                if (couch.NodeUrls().Count == 0)
                {
                    throw new ConfigException("stdin: $.couchdb.url: expected a URL or a list of URLs");
                }
            }
            catch (UriFormatException ex)
            {
                throw new ConfigException("stdin: $.couchdb.url: not an absolute URL", ex);
            }
        }

        return environment;
    }

    private static async Task ReadOneValueAsync(Stream input, ArrayBufferWriter<byte> buffer)
    {
        while (true)
        {
            var memory = buffer.GetMemory(4096);
            var read = await input.ReadAsync(memory).ConfigureAwait(false);
            if (read == 0)
            {
                return;
            }

            buffer.Advance(read);
            if (buffer.WrittenCount > MaxBytes)
            {
                throw new ConfigException("stdin: environment larger than 1 MiB");
            }

            if (IsCompleteValue(buffer.WrittenSpan))
            {
                return;
            }
        }
    }

    private static bool IsCompleteValue(ReadOnlySpan<byte> bytes)
    {
        var reader = new Utf8JsonReader(bytes, isFinalBlock: false, state: default);
        try
        {
            return reader.Read() && reader.TrySkip();
        }
        catch (JsonException)
        {
            return true; // malformed: let Parse report it
        }
    }

    private static void ClearWritten(ArrayBufferWriter<byte> buffer)
    {
        // ArrayBufferWriter has no public clear of its array; overwrite what was written through its span.
        if (buffer.WrittenCount > 0)
        {
            var written = buffer.WrittenMemory;
            if (System.Runtime.InteropServices.MemoryMarshal.TryGetArray(written, out var segment) && segment.Array is not null)
            {
                CryptographicOperations.ZeroMemory(segment.Array.AsSpan(segment.Offset, segment.Count));
            }
        }

        buffer.Clear();
    }
}
