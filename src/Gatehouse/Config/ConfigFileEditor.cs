using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Gatehouse.Config;

/// <summary>
/// Edits a config file safely (issue 8, <c>gatehouse peer add</c>): parse it as a JSON tree (so every
/// field the edit does not touch is kept), change it, validate the result with <see cref="ConfigLoader"/>
/// exactly as <c>serve</c> would, then write a temp file beside it and rename it over the original —
/// a crash or a bad edit never leaves a half-written or invalid config. JSON comments are not kept.
/// </summary>
internal static class ConfigFileEditor
{
    private static readonly JsonDocumentOptions ReadOptions = new() { CommentHandling = JsonCommentHandling.Skip, AllowTrailingCommas = true };

    // Pins contain '+' and '/': written as they are, so the file stays readable and pasteable.
    private static readonly JsonSerializerOptions WriteOptions = new() { WriteIndented = true, Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    /// <exception cref="ConfigException">The file cannot be read or parsed, or the edited config is invalid (nothing was written).</exception>
    public static void Edit(string path, Action<JsonObject> edit)
    {
        var fullPath = Path.GetFullPath(path);
        JsonObject root;
        try
        {
            root = JsonNode.Parse(File.ReadAllText(fullPath), documentOptions: ReadOptions) as JsonObject
                ?? throw new ConfigException($"{fullPath}: expected a JSON object");
        }
        catch (JsonException ex)
        {
            throw new ConfigException($"{fullPath}: {ex.Message}", ex);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new ConfigException($"{fullPath}: cannot read: {ex.Message}", ex);
        }

        edit(root);
        var text = root.ToJsonString(WriteOptions) + "\n";
        ConfigLoader.Parse(text, fullPath); // throws with the field path; the original stays as it was
        WriteAtomically(fullPath, text);
    }

    private static void WriteAtomically(string fullPath, string text)
    {
        var folder = Path.GetDirectoryName(fullPath) ?? ".";
        var temp = Path.Combine(folder, $".{Path.GetFileName(fullPath)}.{Guid.NewGuid():N}.tmp");
        try
        {
            using (var stream = new FileStream(temp, FileMode.CreateNew, FileAccess.Write))
            {
                if (!OperatingSystem.IsWindows())
                {
                    File.SetUnixFileMode(stream.SafeFileHandle, File.GetUnixFileMode(fullPath)); // keep the owner's chosen mode
                }

                stream.Write(System.Text.Encoding.UTF8.GetBytes(text));
                stream.Flush(flushToDisk: true); // on disk before the rename makes it the config
            }

            File.Move(temp, fullPath, overwrite: true);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            File.Delete(temp);
            throw new ConfigException($"{fullPath}: cannot write: {ex.Message}", ex);
        }
    }
}
