using System.Text.Json;
using Gatehouse.Wire;

namespace Gatehouse.Config;

/// <summary>
/// Reads and validates a config file, and leaves it as written: relative paths stay relative to
/// the file's folder (<see cref="GatehouseConfig.SourcePath"/>) until the runtime model is
/// compiled. The first error names the file and the JSON path of the field, so the user can fix it at once.
/// </summary>
public static class ConfigLoader
{

    public static GatehouseConfig Load(string path)
    {
        var fullPath = Path.GetFullPath(path);
        string text;
        try
        {
            text = File.ReadAllText(fullPath);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new ConfigException($"{path}: cannot read: {ex.Message}", ex);
        }

        return Parse(text, fullPath);
    }

    public static GatehouseConfig Parse(string json, string fullPath)
    {
        GatehouseConfig? config;
        try
        {
            config = JsonSerializer.Deserialize(json, ConfigJsonContext.Default.GatehouseConfig);
        }
        catch (JsonException ex)
        {
            throw new ConfigException($"{fullPath}: {ConfigJsonErrors.Explain(ex, ConfigJsonContext.Default.GatehouseConfig)}", ex);
        }

        if (config is null)
        {
            throw new ConfigException($"{fullPath}: expected a JSON object");
        }

        config.SourcePath = fullPath;
        if (ConfigValidator.Validate(config) is [var first, ..])
        {
            throw new ConfigException($"{fullPath}: {first}");
        }

        return config;
    }

    internal static ListenEndpoint ToEndpoint(ListenConfig listen) => new()
    {
        Address = ListenEndpoint.ParseAddress(listen.Address),
        Port = listen.Port,
        Tls = listen.Tls,
        Local = listen.Local,
        ClientCertificate = listen.ClientCertificate switch
        {
            "optional" => ClientCertificateMode.Optional,
            "none" => ClientCertificateMode.None,
            _ => ClientCertificateMode.Required,
        },
    };
}
