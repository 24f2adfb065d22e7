namespace Gatehouse.Config;

/// <summary>A config or environment problem the user must fix; the message names the file and the field. Exit code 2.</summary>
public sealed class ConfigException : Exception
{
    public ConfigException(string message)
        : base(message)
    {
    }

    public ConfigException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    public ConfigException()
    {
    }
}
