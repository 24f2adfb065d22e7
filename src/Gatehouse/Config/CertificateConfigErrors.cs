using Gatehouse.Wire;

namespace Gatehouse.Config;

/// <summary>
/// A certificate or key file named by the config that cannot be used, reported with the config file,
/// the JSON path of the field that names it and what to do about it (issue 19 item 6).
/// </summary>
internal static class CertificateConfigErrors
{
    public static ConfigException For(GatehouseConfig config, string field, CertificateFileException ex)
    {
        ArgumentNullException.ThrowIfNull(config);
        ArgumentNullException.ThrowIfNull(ex);
        var where = (config.SourcePath.Length > 0 ? config.SourcePath + ": " : string.Empty) + field + ": ";
        var fix = ex.InnerException is FileNotFoundException or DirectoryNotFoundException
            ? " — fix the path (a relative path is relative to the config file's folder), or make a new identity with `gatehouse init DIR`"
            : string.Empty;
        return new ConfigException(where + ex.Message + fix, ex);
    }
}
