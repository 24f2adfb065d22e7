namespace Gatehouse.Config;

/// <summary>One thing wrong with a config: the JSON path of the field and what to fix.</summary>
public sealed record ConfigError(string Field, string Message)
{
    public override string ToString() => $"{Field}: {Message}";
}
